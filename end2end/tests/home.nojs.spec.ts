import { expect, test } from "@playwright/test";

test("home page is complete and readable without JavaScript", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Chat with AI on a server you own");
  await expect(page.getByRole("heading", { level: 2 })).toHaveCount(3);
  await expect(page.locator("footer")).toContainText("self-hosted AI chat");
  await expect(page.locator("body")).not.toHaveAttribute("data-hydrated", "true");
  // The stylesheet loaded: the header is laid out as a flex row.
  await expect(page.locator(".site-header")).toHaveCSS("display", "flex");
});

test("the theme switch works as a plain form post", async ({ page }) => {
  await page.goto("/");
  await page.locator(".theme-toggle button").click();
  await expect(page).toHaveURL("/");
  await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
  await expect(page.locator(".theme-toggle button")).toHaveText("Theme: light");
});

test("unknown pages show the app's 404 page", async ({ page }) => {
  const response = await page.goto("/no/such/page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Page not found");
  await page.getByRole("link", { name: "Go to the home page" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Chat with AI on a server you own");
});
