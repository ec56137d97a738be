import { expect, test, type Page } from "@playwright/test";

async function logIn(page: Page) {
  await page.goto("/chat");
  await expect(page).toHaveURL(/\/login\?next=\/chat$/);
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.getByLabel("Username or email").fill("ada");
  await page.getByLabel("Password").fill("Tr4vel-Lisbon-Blue");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL("/chat");
  await page.waitForSelector('body[data-hydrated="true"]');
  // The chat page's code and its conversation list have arrived (the page is a chunk of its own, fetched now).
  await expect(page.getByTestId("search")).toBeVisible();
}

async function send(page: Page, text: string) {
  const composer = page.getByTestId("composer");
  await expect(composer).toBeEnabled();
  await composer.fill(text);
  await composer.press("Enter");
}

const lastReply = (page: Page) => page.getByTestId("message-assistant").last();

test("chat: tokens stream in, the reply is saved, Regenerate keeps the old one as a sibling", async ({ page }) => {
  page.on("dialog", () => {
    throw new Error("no dialog may open");
  });
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await logIn(page);
  await send(page, "[fake:tps=12] [fake:tokens=36] Tell me something");
  await expect(page).toHaveURL(/\/chat\/\d+$/);
  const streaming = page.getByTestId("streaming");
  await expect(streaming).toBeVisible();
  await expect(streaming).toContainText("lorem");
  const early = (await streaming.textContent())?.length ?? 0;
  await page.waitForTimeout(700);
  const later = (await streaming.textContent())?.length ?? 0;
  expect(later).toBeGreaterThan(early);
  // While it is written, Stop takes the Send button's place.
  await expect(page.getByTestId("send")).toHaveCount(0);
  await expect(page.getByTestId("stop")).toBeVisible();

  await expect(lastReply(page)).toHaveAttribute("data-status", "delivered", { timeout: 10_000 });
  await expect(lastReply(page)).toContainText("adipiscing");
  await expect(page.getByTestId("composer")).toHaveValue("");

  await page.getByTestId("regenerate").click();
  await expect(lastReply(page)).toHaveAttribute("data-status", "delivered", { timeout: 10_000 });
  await expect(lastReply(page).getByTestId("branch-position")).toHaveText("2/2");
  await lastReply(page).getByRole("button", { name: "Previous version" }).click();
  await expect(lastReply(page).getByTestId("branch-position")).toHaveText("1/2");
  expect(errors).toEqual([]);
});

test("chat: Stop ends the reply and keeps its text", async ({ page }) => {
  await logIn(page);
  await send(page, "[fake:tps=8] [fake:tokens=200] a long answer please");
  const streaming = page.getByTestId("streaming");
  await expect(streaming).toContainText("ipsum");
  await page.getByTestId("stop").click();
  await expect(lastReply(page)).toHaveAttribute("data-status", "stopped");
  await expect(lastReply(page)).toContainText("Stopped.");
  await expect(lastReply(page)).toContainText("lorem");
});

test("chat: a reload mid-reply shows the text so far and continues live", async ({ page }) => {
  await logIn(page);
  await send(page, "[fake:tps=10] [fake:tokens=50] keep going");
  await expect(page).toHaveURL(/\/chat\/\d+$/);
  await expect(page.getByTestId("streaming")).toContainText("dolor");
  await page.reload();
  const streaming = page.getByTestId("streaming");
  await expect(streaming).toContainText("lorem");
  await page.waitForSelector('body[data-hydrated="true"]');
  const before = (await streaming.textContent())?.length ?? 0;
  await page.waitForTimeout(800);
  expect((await streaming.textContent())?.length ?? 0).toBeGreaterThan(before);
  await expect(lastReply(page)).toHaveAttribute("data-status", "delivered", { timeout: 10_000 });
  expect((await lastReply(page).locator(".message-body").textContent())?.trim().split(/\s+/).length).toBe(50);
});

test("chat: markup and javascript: links in messages are inert", async ({ page }) => {
  let dialogs = 0;
  page.on("dialog", async (dialog) => {
    dialogs += 1;
    await dialog.dismiss();
  });
  await logIn(page);
  await send(page, "<img src=x onerror=alert(1)> [click me](javascript:alert(2))");
  await expect(lastReply(page)).toHaveAttribute("data-status", "delivered", { timeout: 10_000 });
  const mine = page.getByTestId("message-user").last();
  await expect(mine).toContainText("<img src=x onerror=alert(1)>");
  await expect(page.locator(".messages img")).toHaveCount(0);
  await expect(page.locator('.messages a[href^="javascript:"]')).toHaveCount(0);
  await page.getByText("click me").last().click();
  expect(dialogs).toBe(0);
});

test("chat: code blocks are highlighted and Copy puts the code on the clipboard", async ({ page, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await logIn(page);
  await send(page, "Show code\n```rust\nfn main() { println!(\"hi\"); }\n```");
  await expect(lastReply(page)).toHaveAttribute("data-status", "delivered", { timeout: 10_000 });
  const block = lastReply(page).locator(".code-block");
  await expect(block.locator(".code-bar span")).toHaveText("rust");
  await expect(block.locator("span.hl-storage").first()).toHaveText("fn");
  await block.getByRole("button", { name: "Copy" }).click();
  await expect(block.getByRole("button", { name: "Copied" })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('fn main() { println!("hi"); }\n');
});

test("chat: a message costs one request and its stream, and the page never reloads", async ({ page }) => {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await logIn(page);
  let loads = 0;
  page.on("load", () => (loads += 1));
  const requests: string[] = [];
  page.on("request", (r) => {
    const url = new URL(r.url());
    requests.push(`${r.method()} ${url.pathname}`);
  });
  const expectOneRequestAndItsStream = async (text: string, replies: number) => {
    requests.length = 0;
    await send(page, text);
    await expect(page.getByTestId("message-assistant")).toHaveCount(replies);
    await expect(lastReply(page)).toHaveAttribute("data-status", "delivered", { timeout: 10_000 });
    await expect(lastReply(page)).toContainText("lorem");
    // Anything the page would fetch after the reply has had its time.
    await page.waitForTimeout(1_000);
    expect(requests).toHaveLength(2);
    expect(requests[0]).toMatch(/^POST \/_server\//);
    expect(requests[1]).toMatch(/^GET \/chat\/\d+\/messages\/\d+\/events$/);
  };
  // The first message, from /chat: it creates the conversation and goes to it without fetching it.
  await expectOneRequestAndItsStream("[fake:tps=20] [fake:tokens=12] counted first", 1);
  await expect(page).toHaveURL(/\/chat\/\d+$/);
  const id = page.url().split("/").pop();
  await expect(page.locator(`.sidebar a[href="/chat/${id}"]`)).toBeVisible();
  // A second message in it.
  await expectOneRequestAndItsStream("[fake:tps=20] [fake:tokens=12] counted second", 2);
  await expect(page.getByTestId("message-user")).toHaveCount(2);
  expect(loads).toBe(0);
  expect(errors).toEqual([]);
});
