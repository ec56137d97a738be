import { expect, test, type Page } from "@playwright/test";
import { spawn } from "node:child_process";
import { binary, serverEnv } from "../playwright.config";
import { conversation, register, sendApi, settle, unwatch, watch } from "./support";

// Every page in every state it can be in, opened fresh with JavaScript on (issue #11): no console error, no panic,
// hydrated, and HTML that the browser's parser keeps as written (a block or a form inside <p>, nested forms or links
// are rearranged by the parser, and hydration then walks a different tree and panics).

/** Tags whose count differs between the server's HTML and the tree the browser's parser builds from it. */
async function nestingProblems(page: Page, url: string): Promise<string[]> {
  const html = await (await page.request.get(url)).text();
  return page.evaluate((source) => {
    const raw = ["script", "style", "textarea", "title", "noscript"];
    let text = source.replace(/<!--[\s\S]*?-->/g, "");
    for (const tag of raw) {
      text = text.replace(new RegExp(`<${tag}\\b([^>]*)>[\\s\\S]*?</${tag}>`, "gi"), `<${tag}$1></${tag}>`);
    }
    const written: Record<string, number> = {};
    for (const m of text.matchAll(/<([a-zA-Z][a-zA-Z0-9-]*)/g)) {
      const tag = m[1].toLowerCase();
      written[tag] = (written[tag] ?? 0) + 1;
    }
    const doc = new DOMParser().parseFromString(source, "text/html");
    doc.querySelectorAll("noscript").forEach((n) => n.replaceChildren());
    const parsed: Record<string, number> = {};
    for (const el of Array.from(doc.getElementsByTagName("*"))) {
      const tag = el.localName.toLowerCase();
      parsed[tag] = (parsed[tag] ?? 0) + 1;
    }
    const problems: string[] = [];
    for (const tag of new Set([...Object.keys(written), ...Object.keys(parsed)])) {
      if ((written[tag] ?? 0) !== (parsed[tag] ?? 0)) {
        problems.push(`<${tag}>: ${written[tag] ?? 0} written, ${parsed[tag] ?? 0} parsed`);
      }
    }
    return problems;
  }, html);
}

/** Opens `url` fresh and checks the experience: hydrated, no error, well-nested HTML. */
async function check(page: Page, url: string, state: string, allowed: RegExp[] = []) {
  const w = watch(page, allowed);
  await page.goto(url);
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 15_000 });
  // Let effects and streams started by hydration run.
  await page.waitForTimeout(300);
  expect(await nestingProblems(page, url), `${state}: invalid nesting`).toEqual([]);
  expect(w.errors, `${state}: console errors or panics`).toEqual([]);
  unwatch(page);
}

test("every page state hydrates without an error, and its HTML is nested as written", async ({ page }) => {
  test.setTimeout(180_000);
  // Visitors.
  for (const [url, state] of [
    ["/", "home"],
    ["/login", "login"],
    ["/login?next=/chat", "login with next"],
    ["/register", "register"],
    ["/forgot-password", "forgot password"],
    ["/forgot-password?sent=1", "reset link sent"],
    ["/reset-password/not-a-token", "reset with a bad token"],
    ["/no/such/page", "404"],
  ]) {
    // The 404 page's own document answers 404; the browser logs that as a failed resource.
    await check(page, url, state, url === "/no/such/page" ? [/status of 404/] : []);
  }

  await register(page, `states${Date.now()}`);
  await check(page, "/chat", "empty chat");
  await check(page, "/settings", "settings");
  await check(page, "/settings/password", "password");
  await check(page, "/settings/tokens", "tokens");

  // A code block.
  const code = await conversation(page, 'Show code\n```rust\nfn main() { println!("hi"); }\n```');
  await check(page, `/chat/${code}`, "code block");
  await check(page, "/chat?q=println", "search results");

  // A long conversation (13 exchanges, 26 messages).
  const long = await conversation(page, "[fake:tps=400] [fake:tokens=40] first of many");
  for (let i = 2; i <= 13; i++) {
    await sendApi(page, long, `[fake:tps=400] [fake:tokens=40] message ${i}`);
    await settle(page, long);
  }
  await check(page, `/chat/${long}`, "long chat");

  // A second account: each may send 20 messages a minute.
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page.getByRole("banner").getByRole("link", { name: "Log in" })).toBeVisible();
  await register(page, `states2${Date.now()}`);

  // Branches: a regenerated reply and an edited message (the version switch sits in each message's meta line).
  const branched = await conversation(page, "[fake:tps=400] branch me");
  await page.goto(`/chat/${branched}`);
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.getByTestId("regenerate").click();
  await expect(page.getByTestId("message-assistant").last().getByTestId("branch-position")).toHaveText("2/2", {
    timeout: 10_000,
  });
  await settle(page, branched);
  await page.getByTestId("message-user").last().hover();
  await page.getByTestId("message-user").last().getByTestId("edit").click();
  await page.getByLabel("Edit your message").fill("[fake:tps=400] branch me, edited");
  await page.getByRole("button", { name: "Save and send" }).click();
  await expect(page.getByTestId("message-user").last().getByTestId("branch-position")).toHaveText("2/2", {
    timeout: 10_000,
  });
  await settle(page, branched);
  await check(page, `/chat/${branched}`, "branches");
  // And the page still works after that reload: Enter sends instead of adding a line.
  const composer = page.getByTestId("composer");
  await composer.fill("[fake:tps=400] after the reload");
  await composer.press("Enter");
  await expect(page.getByTestId("message-user").last()).toContainText("after the reload", { timeout: 10_000 });
  await settle(page, branched);

  // A provider error shown with the reply.
  const failed = await conversation(page, "[fake:500] please fail");
  await check(page, `/chat/${failed}`, "error reply");

  // A reply being written while the page opens.
  const streaming = await conversation(page, "[fake:tps=400] start");
  await sendApi(page, streaming, "[fake:tps=8] [fake:tokens=80] keep streaming");
  await check(page, `/chat/${streaming}`, "streaming");
  await expect(page.getByTestId("streaming")).toBeVisible();
  await page.getByTestId("stop").click();
  await settle(page, streaming);
  await check(page, `/chat/${streaming}`, "stopped reply");

  // Archived.
  const archived = await conversation(page, "[fake:tps=400] archive me");
  const res = await page.request.post(`/api/chat/conversations/${archived}/archive/`, {
    headers: { Origin: new URL(page.url()).origin },
  });
  expect(res.status()).toBe(200);
  await check(page, "/chat?archived=1", "archived list");
  await check(page, `/chat/${archived}`, "archived conversation");

  // Missing conversation (answered 404).
  await check(page, "/chat/999999", "missing conversation", [/status of 404/]);

  // A form showing its errors as the server renders them (after a plain form post, the page's address carries them).
  await page.goto("/settings");
  await page.waitForSelector('body[data-hydrated="true"]');
  const form = page.locator("form", { has: page.getByLabel("Email") });
  const action = (await form.getAttribute("action")) ?? "";
  const fields = await form.evaluate((f) =>
    Object.fromEntries(Array.from(new FormData(f as HTMLFormElement).entries()).map(([k, v]) => [k, String(v)])),
  );
  const origin = new URL(page.url()).origin;
  const posted = await page.request.post(action, {
    form: { ...fields, email: "not-an-email" },
    headers: { Accept: "text/html", Origin: origin, Referer: `${origin}/settings` },
    maxRedirects: 0,
  });
  expect(posted.status()).toBe(302);
  await check(page, new URL(posted.headers()["location"], origin).toString(), "settings with errors");
  await expect(page.locator("#email-errors")).toBeVisible();
});

test("an interrupted reply (its server stopped mid-reply) hydrates too", async ({ page }) => {
  test.setTimeout(60_000);
  await register(page, `interrupted${Date.now()}`);
  const id = await conversation(page, "[fake:tps=400] hello");
  // A second instance on the same database writes a slow reply and is stopped (SIGTERM) in the middle of it.
  const port = 3100 + 50 + Math.floor(Math.random() * 40);
  const other = spawn(binary, ["serve"], { env: { ...process.env, ...serverEnv(port) }, stdio: "ignore" });
  try {
    await expect
      .poll(async () => (await page.request.get(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.status(), {
        timeout: 20_000,
      })
      .toBe(200);
    const res = await page.request.post(`http://127.0.0.1:${port}/api/chat/conversations/${id}/messages/`, {
      data: { content: "[fake:tps=5] [fake:tokens=200] slowly" },
      headers: { Origin: `http://127.0.0.1:${port}` },
    });
    expect(res.status()).toBe(201);
    await page.waitForTimeout(1500);
  } finally {
    other.kill("SIGTERM");
  }
  await expect
    .poll(
      async () => {
        const c = await (await page.request.get(`/api/chat/conversations/${id}/`)).json();
        return (c.messages as { status: string }[]).at(-1)?.status;
      },
      { timeout: 15_000 },
    )
    .toBe("interrupted");
  await check(page, `/chat/${id}`, "interrupted reply");
  await expect(page.getByTestId("message-assistant").last()).toContainText("Interrupted");
});

test("a send never reloads the page: the draft and the focus stay", async ({ page }) => {
  test.setTimeout(60_000);
  await register(page, `noreload${Date.now()}`);
  await page.goto("/chat");
  await page.waitForSelector('body[data-hydrated="true"]');
  let navigations = 0;
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame()) navigations += 1;
  });
  await page.evaluate(() => ((window as unknown as { stillHere: boolean }).stillHere = true));
  const composer = page.getByTestId("composer");
  await composer.fill("[fake:tps=6] [fake:tokens=40] a slow reply");
  await composer.press("Enter");
  await expect(page).toHaveURL(/\/chat\/\d+$/);
  await expect(page.getByTestId("streaming")).toBeVisible();
  const afterSend = navigations; // the client-side route change to the new conversation
  await composer.click();
  await composer.pressSequentially("my next question");
  await page.waitForTimeout(10_000);
  expect(navigations, "no navigation after the send").toBe(afterSend);
  expect(await page.evaluate(() => (window as unknown as { stillHere?: boolean }).stillHere)).toBe(true);
  await expect(composer).toHaveValue("my next question");
  await expect(composer).toBeFocused();
  // Regenerate the same way.
  await expect(page.getByTestId("message-assistant").last()).toHaveAttribute("data-status", "delivered", {
    timeout: 15_000,
  });
  await page.getByTestId("regenerate").click();
  await page.waitForTimeout(4_000);
  expect(navigations, "no navigation after a regenerate").toBe(afterSend);
  expect(await page.evaluate(() => (window as unknown as { stillHere?: boolean }).stillHere)).toBe(true);
  await expect(composer).toHaveValue("my next question");
});

test("pages loaded in parallel each keep their own policy and hydrate", async ({ browser }) => {
  // The report: with 8 browser contexts loading at once, about 1 load in 30–120 came back with the strict policy.
  test.setTimeout(180_000);
  const contexts = await Promise.all(Array.from({ length: 8 }, () => browser.newContext()));
  const problems: string[] = [];
  for (let round = 0; round < 4; round++) {
    await Promise.all(
      contexts.map(async (context, i) => {
        const page = await context.newPage();
        const url = ["/", "/login", "/register", "/forgot-password"][(i + round) % 4];
        const w = watch(page);
        const res = await page.goto(url);
        const csp = res?.headers()["content-security-policy"] ?? "";
        if (!csp.includes("'nonce-")) problems.push(`${url}: ${csp}`);
        // Eight debug builds of the client compile at once on two cores: give them time.
        await page
          .waitForSelector('body[data-hydrated="true"]', { timeout: 60_000 })
          .catch(() => problems.push(`${url}: not hydrated`));
        problems.push(...w.errors.map((e) => `${url}: ${e}`));
        await page.close();
      }),
    );
  }
  await Promise.all(contexts.map((c) => c.close()));
  expect(problems).toEqual([]);
});
