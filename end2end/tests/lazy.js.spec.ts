import { expect, test, type BrowserContextOptions, type Page } from "@playwright/test";
import { PASSWORD, hydrated, register, watch } from "./support";

// Every page's code is fetched when it is needed (src/core/lazy.rs, `cargo leptos build --split`): the home page and
// the chat each on their own, the account forms, the settings and the admin area each as one section (issue #28:
// fewer split points, far fewer files). A first visit downloads the shell and its page's section, a link pointed at
// or focused fetches its section ahead, and a navigation to a section never fetched brings its code then shows it —
// all without a reload.

/** The `.wasm` files the page has asked for, by name. */
function chunks(page: Page): string[] {
  const names: string[] = [];
  page.on("request", (r) => {
    const file = new URL(r.url()).pathname.split("/").pop() ?? "";
    if (file.endsWith(".wasm")) names.push(file);
  });
  return names;
}
/** The split each page's code is in. */
const SPLITS: Record<string, string> = {
  home: "split___home_route_view_",
  chat: "split___chat_route_view_",
  login: "split_auth_view_",
  register: "split_auth_view_",
  forgot_password: "split_auth_view_",
  settings: "split_settings_view_",
  tokens: "split_settings_view_",
  admin: "split_admin_view_",
};
const pageChunk = (names: string[], page: string) => names.some((n) => n.startsWith(SPLITS[page]));

/** Holds back the chunk of `name`'s page until the returned function lets it go. */
async function holdChunk(page: Page, name: string): Promise<() => void> {
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route(new RegExp(`${SPLITS[name]}[^/]*\\.wasm$`), async (route) => {
    await held;
    await route.continue();
  });
  return release;
}

test("a first visit fetches the shell and its own page; a link pointed at fetches its page ahead", async ({ page }) => {
  const w = watch(page);
  const fetched = chunks(page);
  let loads = 0;
  page.on("load", () => (loads += 1));
  await page.goto("/");
  await hydrated(page);
  expect(fetched.some((n) => /^thicode\..*\.wasm$/.test(n)), "the main module").toBe(true);
  expect(pageChunk(fetched, "home"), "the home page's chunk").toBe(true);
  for (const other of ["login", "register", "chat", "settings", "admin"]) {
    expect(pageChunk(fetched, other), `no ${other} chunk on the home page`).toBe(false);
  }

  // Pointing at "Log in" fetches the login page's code before the click.
  const login = page.getByRole("banner").getByRole("link", { name: "Log in" });
  await login.hover();
  await expect.poll(() => pageChunk(fetched, "login")).toBe(true);
  await login.click();
  await expect(page).toHaveURL("/login");
  await expect(page.getByLabel("Username or email")).toBeVisible();

  // Another page of the same section (a click the pointer never announced) came with it: nothing more to fetch.
  const before = fetched.length;
  await page.locator('a[href="/forgot-password"]').evaluate((a: HTMLAnchorElement) => a.click());
  await expect(page).toHaveURL("/forgot-password");
  await expect(page.getByLabel("Email")).toBeVisible();
  expect(fetched.length).toBe(before);
  // Back to a page already loaded: nothing more to fetch.
  await page.goBack();
  await expect(page.getByLabel("Username or email")).toBeVisible();
  expect(fetched.length).toBe(before);
  expect(loads).toBe(1);
  expect(w.errors).toEqual([]);
});

test("the sign-up page fetches the chat's code once the form is started, so the account lands in it at once", async ({
  page,
}) => {
  const w = watch(page);
  const fetched = chunks(page);
  await page.goto("/register");
  await hydrated(page);
  // Nothing of the next page while this one loads and sits untouched (issue #28: /login paid for the chat's code).
  await page.waitForTimeout(1_000);
  expect(pageChunk(fetched, "chat")).toBe(false);
  await page.getByLabel("Username").focus();
  await expect.poll(() => pageChunk(fetched, "chat")).toBe(true);
  await page.getByLabel("Username").fill("lazy_lander");
  await page.getByLabel("Email").fill("lazy_lander@example.com");
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByLabel("Confirm password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL("/chat");
  await expect(page.getByTestId("composer")).toBeFocused();
  expect(w.errors).toEqual([]);
});

test("a page opened directly hydrates with its section, and the keyboard's focus fetches another section", async ({ page }) => {
  const w = watch(page);
  await register(page, "lazy_focus");
  const fetched = chunks(page);
  await page.goto("/settings");
  await hydrated(page);
  expect(pageChunk(fetched, "settings")).toBe(true);
  // The other settings pages came with it; the chat did not.
  expect(pageChunk(fetched, "chat")).toBe(false);
  const before = fetched.length;
  await page.locator('a[href="/settings/tokens"]').first().evaluate((a: HTMLAnchorElement) => a.click());
  await expect(page).toHaveURL("/settings/tokens");
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  expect(fetched.length).toBe(before);
  await page.locator('a[href="/chat"]').first().focus();
  await expect.poll(() => pageChunk(fetched, "chat")).toBe(true);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL("/chat");
  await expect(page.getByTestId("composer")).toBeVisible();
  expect(w.errors).toEqual([]);
});

test("while a page's code is still on its way, the page shows that it is coming, then shows it", async ({ page }) => {
  const w = watch(page);
  const release = await holdChunk(page, "home");
  await page.goto("/login");
  await hydrated(page);
  await expect(page.locator("main")).not.toHaveAttribute("aria-busy");
  // The home page's code was never fetched (a click the pointer never announced).
  await page.getByRole("banner").getByRole("link", { name: "ThiCode" }).evaluate((a: HTMLAnchorElement) => a.click());
  // Busy for assistive technology, and a progress bar drawn at the top after a moment (the address changes when
  // the page is there).
  await expect(page.locator("main")).toHaveAttribute("aria-busy", "true");
  await expect(page.locator("body")).toHaveAttribute("data-navigating", "");
  const bar = () =>
    page.evaluate(() => {
      const style = getComputedStyle(document.body, "::before");
      return { content: style.content, height: style.height, name: style.animationName };
    });
  await expect.poll(bar).toEqual({ content: '""', height: "3px", name: "navigating" });
  release();
  await expect(page).toHaveURL("/");
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  await expect(page.locator("main")).not.toHaveAttribute("aria-busy");
  await expect(page.locator("body")).not.toHaveAttribute("data-navigating");
  expect((await bar()).content).toBe("none");
  expect(w.errors).toEqual([]);
});

test("a navigation that leaves a page still on its way does not stay busy", async ({ page }) => {
  const w = watch(page);
  const release = await holdChunk(page, "home");
  await page.goto("/login");
  await hydrated(page);
  await page.getByRole("banner").getByRole("link", { name: "ThiCode" }).evaluate((a: HTMLAnchorElement) => a.click());
  await expect(page.locator("main")).toHaveAttribute("aria-busy", "true");
  // Somewhere else before it arrives: a path no page answers (the 404 is in the shell, not a lazy page).
  await page.evaluate(() => {
    const a = document.createElement("a");
    a.href = "/no-such-page";
    document.body.append(a);
    a.click();
  });
  await expect(page).toHaveURL("/no-such-page");
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await expect(page.locator("main")).not.toHaveAttribute("aria-busy");
  await expect(page.locator("body")).not.toHaveAttribute("data-navigating");
  release();
  await page.waitForTimeout(300);
  await expect(page).toHaveURL("/no-such-page");
  await expect(page.locator("main")).not.toHaveAttribute("aria-busy");
  expect(w.errors).toEqual([]);
});

// A page's own section is fetched right after the first paint, by the head's script (`core::lazy::section_preloads`):
// not written as links into the head, where every chunk would hold back the first paint on a slow connection, and not
// from the task that hydrates the page, which issuing ~20 requests made long (issue #28). Each page is a first visit:
// a browser with nothing cached (with the main module cached, hydration may start first and fetch them itself).
test("each page fetches its section's chunks once, after the first paint, and names none in the head", async ({
  browser,
  page,
}) => {
  const check = async (path: string, section: string, storageState?: BrowserContextOptions["storageState"]) => {
    const context = await browser.newContext({ storageState });
    const fresh = await context.newPage();
    const w = watch(fresh);
    const requested: string[] = [];
    fresh.on("request", (r) => requested.push(new URL(r.url()).pathname));
    // When the first frame starts to render (its animation-frame callbacks, before the paint). The paint timing
    // entry cannot be the mark: it is the time the frame reached the screen, later than the task after the paint.
    await fresh.addInitScript(() => {
      requestAnimationFrame(() => ((window as unknown as { firstFrame: number }).firstFrame = performance.now()));
    });
    const html = await (await context.request.get(path)).text();
    // The server names no chunk in a link: the script lists them.
    expect(html.match(/<link[^>]*(split_|chunk_|__wasm_split)[^>]*>/g), `no chunk link in ${path}'s head`).toBeNull();
    expect(html, `${path} lists its section`).toContain(SPLITS[section]);
    await fresh.goto(path);
    await hydrated(fresh);
    const timing = () =>
      fresh.evaluate((split) => {
        const frame = (window as unknown as { firstFrame?: number }).firstFrame;
        // Every `.wasm` but the main module: the split point's own file and the chunks it shares with others.
        const chunks = performance
          .getEntriesByType("resource")
          .filter((e) => /\/(split|chunk)_[^/]*\.wasm$/.test(e.name))
          .map((e) => ({ name: e.name, start: e.startTime }));
        return { frame: frame ?? null, chunks, own: chunks.some((c) => c.name.includes(split)) };
      }, SPLITS[section]);
    await expect.poll(async () => (await timing()).own, `${path} fetched its section`).toBe(true);
    const { frame, chunks } = await timing();
    expect(frame, `${path} rendered a frame`).not.toBeNull();
    for (const chunk of chunks) expect(chunk.start, `${chunk.name} after the first frame`).toBeGreaterThanOrEqual(frame!);
    const files = requested.filter((p) => p.endsWith(".wasm") || p.endsWith(".js"));
    expect(files.filter((p, i) => files.indexOf(p) !== i), `${path}: no file twice`).toEqual([]);
    expect(w.errors).toEqual([]);
    await context.close();
  };
  for (const [path, section] of [
    ["/", "home"],
    ["/login", "login"],
    ["/register", "register"],
    ["/forgot-password", "forgot_password"],
    ["/reset-password/not-a-real-token", "login"],
  ]) {
    await check(path, section);
  }
  await register(page, `lazy_paint_${test.info().repeatEachIndex}`);
  const signedIn = await page.context().storageState();
  await check("/chat", "chat", signedIn);
  await check("/settings", "settings", signedIn);
});
