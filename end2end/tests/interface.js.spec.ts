import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { spawn } from "node:child_process";
import { binary, serverEnv } from "../playwright.config";
import { PASSWORD, api, conversation, hydrated, register, settle, unwatch, watch } from "./support";

// The chat interface as a person meets it (issue #13): every page state at phone and desktop size, light and dark,
// with no horizontal overflow, no console error, hydrated and axe-clean (WCAG 2.2 AA, serious and critical); the
// view following a streaming reply; dialogs; shortcuts; the phone drawer; the first run; drafts; the toolbar.

const SIZES = [
  { width: 390, height: 844 },
  { width: 1280, height: 800 },
];

/** Opens `url` at each size and theme and checks the experience. */
async function checkState(page: Page, url: string, state: string, allowed: RegExp[] = []) {
  for (const theme of ["light", "dark"]) {
    await page.context().addCookies([{ name: "theme", value: theme, url: new URL(page.url()).origin }]);
    for (const size of SIZES) {
      await page.setViewportSize(size);
      const w = watch(page, allowed);
      await page.goto(url);
      await hydrated(page);
      await page.waitForTimeout(200);
      const label = `${state} at ${size.width}px, ${theme}`;
      const [scrollWidth, innerWidth] = await page.evaluate(() => [
        document.documentElement.scrollWidth,
        window.innerWidth,
      ]);
      expect(scrollWidth, `${label}: wider than the window`).toBeLessThanOrEqual(innerWidth);
      // The chosen theme is the one shown.
      const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      expect(background, `${label}: background`).toBe(theme === "dark" ? "rgb(21, 21, 29)" : "rgb(255, 255, 255)");
      const axe = await new AxeBuilder({ page })
        .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"])
        .analyze();
      const serious = axe.violations
        .filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`);
      expect(serious, `${label}: axe`).toEqual([]);
      expect(w.errors, `${label}: console errors`).toEqual([]);
      unwatch(page);
    }
  }
  await page.context().clearCookies({ name: "theme" });
}

test("every chat state fits a phone and a desktop, in both themes, hydrated and axe-clean", async ({ page }) => {
  test.setTimeout(300_000);
  for (const [url, state] of [
    ["/", "home"],
    ["/login", "login"],
    ["/register", "register"],
    ["/forgot-password", "forgot password"],
    ["/no/such/page", "404"],
  ]) {
    await page.goto("/");
    await checkState(page, url, state, url === "/no/such/page" ? [/status of 404/] : []);
  }
  await register(page, `ui${Date.now()}`);
  await checkState(page, "/settings", "settings");
  await checkState(page, "/settings/password", "password");
  await checkState(page, "/settings/tokens", "tokens");
  await checkState(page, "/chat", "new chat");
  await checkState(page, "/chat?archived=1", "no archived conversations");
  await checkState(page, "/chat?q=nothing-matches-this", "no search results");
  const wide = "x".repeat(400);
  const code = await conversation(
    page,
    `Show code\n\`\`\`rust\nfn main() { let s = "${wide}"; }\n\`\`\`\n| a | b |\n|---|---|\n| ${wide} | 2 |`,
  );
  await checkState(page, `/chat/${code}`, "long code and a wide table");
  const failed = await conversation(page, "[fake:500] please fail");
  await checkState(page, `/chat/${failed}`, "error reply");
  const long = await conversation(page, "[fake:tps=400] [fake:tokens=60] first of many");
  for (let i = 2; i <= 8; i++) {
    await api(page, `/api/chat/conversations/${long}/messages/`, { content: `[fake:tps=400] [fake:tokens=60] n${i}` });
    await settle(page, long);
  }
  await checkState(page, `/chat/${long}`, "long chat");
  await checkState(page, `/chat/${long}?dialog=settings`, "settings dialog");
  await checkState(page, `/chat/${long}?dialog=shortcuts`, "shortcuts dialog");
  // French, once.
  await page.context().addCookies([{ name: "lang", value: "fr", url: new URL(page.url()).origin }]);
  await checkState(page, `/chat/${long}`, "long chat in French");
  await checkState(page, "/chat", "new chat in French");
  await page.context().clearCookies({ name: "lang" });
});

test("the conversation list loads more as it is scrolled to its end", async ({ page }) => {
  test.setTimeout(90_000);
  await register(page, `many${Date.now()}`);
  // 55 conversations are more than a user may start in a minute here: a second instance on the same database with a
  // higher limit creates them (the session cookie holds for both ports).
  const port = 3100 + 50 + Math.floor(Math.random() * 40);
  const other = spawn(binary, ["serve"], {
    env: { ...process.env, ...serverEnv(port), RATE_LIMIT_MESSAGES_PER_MINUTE: "500" },
    stdio: "ignore",
  });
  try {
    await expect
      .poll(async () => (await page.request.get(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.status(), {
        timeout: 20_000,
      })
      .toBe(200);
    for (let i = 1; i <= 55; i++) {
      const res = await page.request.post(`http://127.0.0.1:${port}/api/chat/conversations/`, {
        data: { initial_message: `[fake:tps=400] [fake:tokens=3] conversation ${i}` },
        headers: { Origin: `http://127.0.0.1:${port}` },
      });
      expect(res.status(), await res.text()).toBe(201);
    }
  } finally {
    other.kill("SIGTERM");
  }
  await page.goto("/chat");
  await hydrated(page);
  const items = page.getByTestId("conversation-item");
  await expect(items).toHaveCount(50);
  await page.locator(".sidebar-scroll").evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
  await expect(items).toHaveCount(55);
  await expect(page.getByTestId("more-conversations")).toHaveCount(0);
  await expect(page).toHaveURL("/chat");
});

test("a refused form puts the focus on the first field to fix; the home page leads to the chat", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  await expect(page.getByTestId("cta-chat")).toBeVisible();
  await page.goto("/register");
  await hydrated(page);
  await page.getByLabel("Username").fill(`focus${Date.now()}`);
  await page.getByLabel("Email").fill("not-an-email");
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByLabel("Confirm password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.locator("#email-errors")).toBeVisible();
  await expect(page.getByLabel("Email")).toBeFocused();
});

test("the staff pages fit a phone and a desktop too", async ({ page }) => {
  test.setTimeout(120_000);
  await page.goto("/login");
  await hydrated(page);
  await page.getByLabel("Username or email").fill("ada");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL("/chat");
  await checkState(page, "/admin", "admin overview");
  await checkState(page, "/admin/users", "admin users");
  await checkState(page, "/admin/users?search=nobody-has-this-name", "admin users, none found");
  await checkState(page, "/admin/audit", "admin audit log");
  await checkState(page, "/admin/usage", "admin usage per day");
  await checkState(page, "/admin/usage?group_by=user", "admin usage per account");
  await checkState(page, "/admin/settings", "admin settings");
  await checkState(page, "/admin/tools", "admin tools");
  await checkState(page, "/admin/users/1", "an account's page");
  await checkState(page, "/settings/usage", "the user's usage");
});

test("a long conversation opens at its end and a streaming reply is followed only while the reader stays there", async ({
  page,
}) => {
  test.setTimeout(120_000);
  await register(page, `scroll${Date.now()}`);
  await page.setViewportSize({ width: 1280, height: 700 });
  const id = await conversation(page, "[fake:tps=400] [fake:tokens=80] first");
  for (let i = 2; i <= 6; i++) {
    await api(page, `/api/chat/conversations/${id}/messages/`, { content: `[fake:tps=400] [fake:tokens=80] m${i}` });
    await settle(page, id);
  }
  await page.goto(`/chat/${id}`);
  await hydrated(page);
  const scroller = page.getByTestId("scroller");
  const distance = () => scroller.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
  await expect.poll(distance).toBeLessThan(50);
  await expect(page.getByTestId("jump-latest")).toBeHidden();
  // A slow reply: the view follows it while at the bottom.
  const composer = page.getByTestId("composer");
  await composer.fill("[fake:tps=12] [fake:tokens=120] a slow, long reply");
  await composer.press("Enter");
  await expect(page.getByTestId("streaming")).toBeVisible();
  await page.waitForTimeout(2_500);
  expect(await distance(), "follows the reply").toBeLessThan(50);
  // Scrolled up: the view stays where the reader is, and offers the way back.
  await scroller.evaluate((el) => el.scrollTo({ top: 0 }));
  await expect(page.getByTestId("jump-latest")).toBeVisible();
  const top = await scroller.evaluate((el) => el.scrollTop);
  await page.waitForTimeout(1_500);
  expect(Math.abs((await scroller.evaluate((el) => el.scrollTop)) - top), "stays put").toBeLessThan(5);
  // On a phone, half-way up the conversation, the button covers none of the messages' links and buttons (axe).
  await page.setViewportSize({ width: 390, height: 844 });
  await scroller.evaluate((el) => el.scrollTo({ top: el.scrollHeight / 2 }));
  await expect(page.getByTestId("jump-latest")).toBeVisible();
  const axe = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]).analyze();
  expect(axe.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id)).toEqual([]);
  const [jumpBox, listBox] = [await page.getByTestId("jump-latest").boundingBox(), await scroller.boundingBox()];
  await page.screenshot({ path: "test-results/jump-latest-390.png" });
  expect(jumpBox!.y, "the button sits below the messages").toBeGreaterThanOrEqual(listBox!.y + listBox!.height - 1);
  await page.setViewportSize({ width: 1280, height: 700 });
  await page.getByTestId("jump-latest").click();
  await expect.poll(distance).toBeLessThan(50);
  await expect(page.getByTestId("jump-latest")).toBeHidden();
  // The streaming reply is Markdown already, never raw.
  await expect(page.getByTestId("streaming")).not.toContainText("**");
  await page.getByTestId("stop").click();
});

test("dialogs are modal: Escape closes them and the focus goes back; delete asks first", async ({ page }) => {
  await register(page, `dialogs${Date.now()}`);
  const id = await conversation(page, "[fake:tps=400] dialogs");
  await page.goto(`/chat/${id}`);
  await hydrated(page);
  const opener = page.getByTestId("open-settings");
  await opener.click();
  const dialog = page.getByTestId("settings-dialog");
  await expect(dialog).toBeVisible();
  expect(await dialog.evaluate((d) => d.matches(":modal"))).toBe(true);
  // The focus is inside the dialog, and Tab keeps it there.
  for (let i = 0; i < 8; i++) {
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => !!document.activeElement?.closest("dialog"))).toBe(true);
  }
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(opener).toBeFocused();
  // Saving closes it.
  await opener.click();
  await page.getByLabel("System prompt").fill("Answer like a pirate.");
  await page.getByTestId("save-settings").click();
  await expect(dialog).toBeHidden();
  // The sidebar's menu: one open at a time, Escape closes it; Delete asks for confirmation.
  await page.getByTestId("conversation-item").first().hover();
  await page.getByTestId("conversation-item").first().locator("summary").click();
  await expect(page.getByTestId("menu-delete")).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(page.getByTestId("menu-delete")).toBeHidden();
  await page.getByTestId("conversation-item").first().locator("summary").click();
  await page.getByTestId("menu-delete").click();
  await expect(page.getByTestId("delete-dialog")).toBeVisible();
  await page.getByTestId("confirm-delete").click();
  await expect(page).toHaveURL("/chat");
  await expect(page.getByTestId("sidebar-empty")).toBeVisible();
});

test("keyboard shortcuts: search, composer, new chat, the list of shortcuts, stop", async ({ page }) => {
  await register(page, `keys${Date.now()}`);
  const id = await conversation(page, "[fake:tps=400] keys");
  await page.goto(`/chat/${id}`);
  await hydrated(page);
  await page.keyboard.press("Control+k");
  await expect(page.getByTestId("search")).toBeFocused();
  await page.keyboard.press("Shift+Escape");
  await expect(page.getByTestId("composer")).toBeFocused();
  await page.locator("body").click({ position: { x: 5, y: 300 } });
  await page.keyboard.press("?");
  await expect(page.getByTestId("shortcuts-dialog")).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(page.getByTestId("shortcuts-dialog")).toBeHidden();
  await page.keyboard.press("Control+Shift+O");
  await expect(page).toHaveURL("/chat");
  await expect(page.getByTestId("welcome")).toBeVisible();
  const composer = page.getByTestId("composer");
  await composer.fill("[fake:tps=6] [fake:tokens=80] slow");
  await composer.press("Enter");
  await expect(page.getByTestId("streaming")).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(page.getByTestId("message-assistant").last()).toHaveAttribute("data-status", "stopped", {
    timeout: 10_000,
  });
});

test("on a phone the conversations are a drawer that closes when one is picked", async ({ page }) => {
  await register(page, `drawer${Date.now()}`);
  const id = await conversation(page, "[fake:tps=400] in the drawer");
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto("/chat");
  await hydrated(page);
  const sidebar = page.locator("#sidebar");
  await expect(sidebar).toBeHidden();
  await page.getByTestId("drawer-button").click();
  await expect(sidebar).toBeVisible();
  await page.locator(`.sidebar a[href="/chat/${id}"]`).click();
  await expect(page).toHaveURL(`/chat/${id}`);
  await expect(sidebar).toBeHidden();
});

test("the first run lands in the chat, greets the user and focuses the composer; logged in, /login goes there too", async ({
  page,
}) => {
  const name = `first${Date.now()}`;
  await register(page, name);
  await expect(page.getByTestId("welcome")).toContainText(`Hello, ${name}`);
  await expect(page.getByTestId("composer")).toBeFocused();
  await expect(page.getByTestId("suggestion")).toHaveCount(4);
  await page.getByTestId("suggestion").first().click();
  await expect(page.getByTestId("composer")).not.toHaveValue("");
  await expect(page.getByTestId("composer")).toBeFocused();
  await page.goto("/login");
  await expect(page).toHaveURL("/chat");
  await page.goto("/register");
  await expect(page).toHaveURL("/chat");
});

test("the composer: Stop in Send's place, the focus stays after a send, a draft survives switching conversations", async ({
  page,
}) => {
  const w = watch(page);
  await register(page, `composer${Date.now()}`);
  const other = await conversation(page, "[fake:tps=400] the other one");
  await page.goto("/chat");
  await hydrated(page);
  const composer = page.getByTestId("composer");
  const send = await page.getByTestId("send").boundingBox();
  await composer.fill("[fake:tps=6] [fake:tokens=60] slow");
  await composer.press("Enter");
  await expect(page.getByTestId("stop")).toBeVisible();
  const stop = await page.getByTestId("stop").boundingBox();
  expect(stop).toEqual(send);
  await expect(composer).toBeFocused();
  await page.getByTestId("stop").click();
  const here = page.url();
  await composer.fill("half a thought");
  await page.locator(`.sidebar a[href="/chat/${other}"]`).click();
  await expect(page).toHaveURL(`/chat/${other}`);
  await expect(composer).toHaveValue("");
  await page.goBack();
  await expect(page).toHaveURL(here);
  await expect(composer).toHaveValue("half a thought");
  expect(w.errors).toEqual([]);
});

test("the composer: what is typed while the page shows a stopped reply stays, with the focus and the caret", async ({
  page,
}) => {
  const w = watch(page);
  await register(page, `retype${Date.now()}`);
  const id = await conversation(page, "[fake:tps=400] first");
  await page.goto(`/chat/${id}`);
  await hydrated(page);
  const composer = page.getByTestId("composer");
  await composer.fill("[fake:tps=6] [fake:tokens=60] slow");
  await composer.press("Enter");
  await expect(page.getByTestId("stop")).toBeVisible();
  // The page fetches the conversation again once the reply stopped; held back, the view it replaces stays on screen
  // (and takes the typing) meanwhile.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let fetching = false;
  await page.route(/\/_server\/get_conversation/, async (route) => {
    fetching = true;
    await held;
    await route.continue();
  });
  await page.getByTestId("stop").click();
  await expect.poll(() => fetching).toBe(true);
  await composer.pressSequentially("typed while it loads");
  release();
  await expect(page.getByTestId("send")).toBeVisible();
  await expect(composer).toHaveValue("typed while it loads");
  await expect(composer).toBeFocused();
  await page.keyboard.type("!");
  await expect(composer).toHaveValue("typed while it loads!");
  // And it is the draft of this conversation.
  await page.reload();
  await hydrated(page);
  await expect(composer).toHaveValue("typed while it loads!");
  expect(w.errors).toEqual([]);
});

test("the message toolbar: copy gives the Markdown, edit in place, the version switch has real targets", async ({
  page,
  context,
}) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await register(page, `tools${Date.now()}`);
  const id = await conversation(page, "[fake:tps=400] **bold** please");
  const w = watch(page);
  await page.goto(`/chat/${id}`);
  await hydrated(page);
  const reply = page.getByTestId("message-assistant").last();
  await reply.hover();
  // The buttons are static markup handled by the list (client::on_messages_click): it copies the message's own source
  // and says so for two seconds.
  const copy = reply.getByTestId("copy-message");
  await copy.click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toContain("**bold**");
  await expect(copy).toHaveAttribute("aria-label", "Copied");
  await expect(copy).toHaveAttribute("data-tip", "Copied");
  await expect(copy).toHaveAttribute("aria-label", "Copy", { timeout: 5_000 });
  await expect(copy.locator("svg.icon")).toHaveCount(1);
  // Ctrl+Shift+C copies the last reply.
  await page.evaluate(() => navigator.clipboard.writeText("something else"));
  await page.getByTestId("composer").click();
  await page.keyboard.press("Control+Shift+C");
  await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).not.toBe("something else");
  await expect(reply.getByTestId("message-details")).toContainText("tokens");
  await reply.getByTestId("regenerate").click();
  await expect(reply.getByTestId("branch-position")).toHaveText("2/2", { timeout: 10_000 });
  await settle(page, id);
  for (const name of ["Previous version", "Next version"]) {
    const button = page.getByRole("button", { name });
    if (await button.count()) {
      const box = await button.first().boundingBox();
      expect(box!.width).toBeGreaterThanOrEqual(24);
      expect(box!.height).toBeGreaterThanOrEqual(24);
    }
  }
  const mine = page.getByTestId("message-user").last();
  await mine.hover();
  const before = page.url();
  await mine.getByTestId("edit").click();
  // The editor opens in place: the link is not followed (its address is for pages without JavaScript).
  await expect(page.getByLabel("Edit your message")).toBeFocused();
  expect(page.url()).toBe(before);
  await expect(mine.locator(".message-content")).toBeHidden();
  await page.keyboard.press("Escape");
  await expect(page.getByLabel("Edit your message")).toHaveCount(0);
  await expect(mine.locator(".message-content")).toBeVisible();
  await mine.hover();
  await mine.getByTestId("edit").click();
  await page.getByLabel("Edit your message").fill("[fake:tps=400] edited");
  await page.getByRole("button", { name: "Save and send" }).click();
  await expect(page.getByTestId("message-user").last().getByTestId("branch-position")).toHaveText("2/2", {
    timeout: 10_000,
  });
  expect(w.errors).toEqual([]);
});
