import { expect, test, type Page } from "@playwright/test";

/**
 * Collects console errors and uncaught exceptions (CSP violations and hydration errors show up here). The browser
 * also logs a document that answered 404 on purpose; `expected404` names such paths.
 */
function watchErrors(page: Page, expected404: string[] = []): string[] {
  const errors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() !== "error") return;
    const url = msg.location().url ?? "";
    const isExpected404 = msg.text().includes("status of 404") && expected404.some((p) => url.endsWith(p));
    if (!isExpected404) errors.push(`${msg.text()} (${url})`);
  });
  page.on("pageerror", (err) => errors.push(err.message));
  return errors;
}

async function hydrated(page: Page) {
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 20_000 });
}

test("home page hydrates and the theme switch works without a reload", async ({ page }) => {
  const errors = watchErrors(page);
  const wasm = page.waitForResponse((r) => r.url().endsWith(".wasm"));
  await page.goto("/");
  await hydrated(page);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Chat with AI on a server you own");
  await expect(page).toHaveTitle("Your own AI chat · ThiCode");
  // The client bundle has a content hash in its name, so it may be cached for good.
  expect((await wasm).headers()["cache-control"]).toBe("public, max-age=31536000, immutable");

  // A marker on window survives only if no full page load happens.
  await page.evaluate(() => ((window as any).__noReload = true));
  const toggle = page.locator(".theme-toggle button");
  await expect(toggle).toHaveText("Theme: system");
  await toggle.click();
  await expect(toggle).toHaveText("Theme: light");
  await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
  await toggle.click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);

  // The choice is in a cookie, so the server renders it on the next load.
  await page.reload();
  await hydrated(page);
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await expect(toggle).toHaveText("Theme: dark");
  expect(errors).toEqual([]);
});

test("unknown pages show the app's 404 and links navigate client-side", async ({ page }) => {
  const errors = watchErrors(page, ["/no/such/page"]);
  const response = await page.goto("/no/such/page");
  expect(response?.status()).toBe(404);
  await hydrated(page);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Page not found");

  await page.evaluate(() => ((window as any).__noReload = true));
  await page.getByRole("link", { name: "Go to the home page" }).click();
  await expect(page).toHaveURL("/");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Chat with AI on a server you own");
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
  expect(errors).toEqual([]);
});
