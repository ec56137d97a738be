import { expect, test } from "@playwright/test";

test("register: field errors appear in place, then the new account is logged in", async ({ page }) => {
  await page.goto("/");
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.getByRole("link", { name: "Sign up" }).click();
  await expect(page).toHaveURL("/register");
  await page.evaluate(() => ((window as any).__noReload = true));

  await page.getByLabel("Username").fill("linus-js");
  await page.getByLabel("Email").fill("linus-js@example.com");
  await page.getByLabel("Password", { exact: true }).fill("12345678");
  await page.getByLabel("Confirm password").fill("12345679");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.locator("#password1-errors")).toContainText("This password is too common.");
  await expect(page.locator("#password2-errors")).toContainText("The two password fields didn't match.");

  await page.getByLabel("Password", { exact: true }).fill("Penguin-Kernel-1991");
  await page.getByLabel("Confirm password").fill("Penguin-Kernel-1991");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL("/");
  await expect(page.getByTestId("user-name")).toHaveText("linus-js");
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
});
