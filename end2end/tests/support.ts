import AxeBuilder from "@axe-core/playwright";
import { expect, type Page } from "@playwright/test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

// What the end-to-end tests share: an account, the console watch, and conversations made through the REST API.

export const PASSWORD = "Tr4vel-Lisbon-Blue";

export type Watch = { errors: string[] };

/** Collects console errors and uncaught exceptions (a WASM panic is both), except the `allowed` ones. */
export function watch(page: Page, allowed: RegExp[] = []): Watch {
  const w: Watch = { errors: [] };
  page.on("console", (m) => {
    if (m.type() === "error" && !allowed.some((re) => re.test(m.text()))) w.errors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => w.errors.push(`pageerror: ${e.message}`));
  return w;
}

/** Stops the watch `watch` started on the page. */
export function unwatch(page: Page) {
  page.removeAllListeners("console");
  page.removeAllListeners("pageerror");
}

/** Waits until the page is hydrated. */
export async function hydrated(page: Page) {
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 15_000 });
}

/** Registers `username` through the sign-up page (hydrated first unless `js` is false) and lands in the chat. */
export async function register(page: Page, username: string, { js = true }: { js?: boolean } = {}) {
  await page.goto("/register");
  if (js) await hydrated(page);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Email").fill(`${username}@example.com`);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByLabel("Confirm password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL("/chat");
  await expect(page.getByTestId("user-name")).toHaveText(username);
}

/** A POST to the REST API with the page's session; its JSON answer. */
export async function api(page: Page, path: string, data: object) {
  const res = await page.request.post(path, { data, headers: { Origin: new URL(page.url()).origin } });
  expect(res.status(), `${path}: ${await res.text()}`).toBeLessThan(300);
  return res.json();
}

/** Waits until no reply is being generated in the conversation. */
export async function settle(page: Page, id: number) {
  await expect
    .poll(
      async () => {
        const c = await (await page.request.get(`/api/chat/conversations/${id}/`)).json();
        return (c.messages as { status: string }[]).some((m) => m.status === "pending" || m.status === "streaming");
      },
      { timeout: 20_000 },
    )
    .toBe(false);
}

/** Creates a conversation through the REST API (same session) and waits for its reply. */
export async function conversation(page: Page, first: string): Promise<number> {
  const id = (await api(page, "/api/chat/conversations/", { initial_message: first })).id as number;
  await settle(page, id);
  return id;
}

/** Sends `content` in conversation `id` through the REST API (the reply is not waited for). */
export async function sendApi(page: Page, id: number, content: string) {
  await api(page, `/api/chat/conversations/${id}/messages/`, { content });
}

/** Staff (ada, made by the test setup) add the test MCP server, once per run; false when it is not installed. */
export async function withMcpServer(page: Page): Promise<boolean> {
  if (!process.env.TEST_MCP_PYTHON) {
    expect(process.env.THICODE_REQUIRE_MCP, "scripts/test installs the MCP test server").toBeUndefined();
    return false;
  }
  const { mcpPort } = await import("../playwright.config");
  const staff = await page.context().browser()!.newContext({ baseURL: new URL(page.url()).origin });
  const origin = { Origin: new URL(page.url()).origin };
  const login = await staff.request.post("/api/accounts/api/login/", { data: { username: "ada", password: PASSWORD }, headers: origin });
  expect(login.status()).toBe(200);
  const added = await staff.request.post("/api/admin/mcp-servers/", {
    data: { name: "e2e", url: `http://127.0.0.1:${mcpPort}/mcp` },
    headers: origin,
  });
  // Added now, or by an earlier test of this run.
  expect([201, 400], await added.text()).toContain(added.status());
  await staff.close();
  return true;
}

/** At the window's current size: nothing wider than the window, and axe-clean (serious and critical, WCAG 2.2 AA). */
export async function fitsAndAxeClean(page: Page, label: string) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, `${label}: nothing wider than the window`).toBeLessThanOrEqual(0);
  const axe = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]).analyze();
  const serious = axe.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`);
  expect(serious, `${label}: axe`).toEqual([]);
}

/** [`fitsAndAxeClean`] on a 390 px phone and a 1280 px desktop window. */
export async function fitsAndAxeCleanAtBothSizes(page: Page, label: string) {
  for (const size of [{ width: 390, height: 844 }, { width: 1280, height: 800 }]) {
    await page.setViewportSize(size);
    await page.waitForTimeout(100);
    await fitsAndAxeClean(page, `${label} at ${size.width}px`);
  }
}

/** Whether `text` is anywhere in the test server's database files (the SQLite file and its write-ahead log) or its
 * file store: what a user wrote in a temporary chat must be in none of them. */
export function onDisk(text: string): string[] {
  const dir = process.env.THICODE_E2E_DATA!;
  const found: string[] = [];
  const look = (file: string) => {
    if (statSync(file).isDirectory()) {
      for (const name of readdirSync(file)) look(path.join(file, name));
    } else if (readFileSync(file).includes(Buffer.from(text))) {
      found.push(file);
    }
  };
  look(dir);
  return found;
}
