import { expect, test } from "@playwright/test";

test("register → log out → log in → edit bio, model and theme → reload shows the saved values", async ({ page }) => {
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
  // A new account lands in the chat.
  await expect(page).toHaveURL("/chat");
  await expect(page.getByTestId("user-name")).toHaveText("linus-js");
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);

  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page.getByRole("banner").getByRole("link", { name: "Log in" })).toBeVisible();
  await page.getByRole("banner").getByRole("link", { name: "Log in" }).click();
  await page.getByLabel("Username or email").fill("linus-js@example.com");
  await page.getByLabel("Password").fill("Penguin-Kernel-1991");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByTestId("user-name")).toHaveText("linus-js");

  await page.getByTestId("user-name").click();
  await expect(page).toHaveURL("/settings");
  await page.getByLabel("Bio").fill("Just a hobby, won't be big.");
  await expect(page.locator("#bio-counter")).toHaveText("27 / 500");
  await page.getByLabel("Preferred AI model").selectOption("mistral-large-latest");
  await page.getByLabel("Display mode").selectOption("dark");
  await page.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByRole("status")).toHaveText("Your settings were saved.");
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await page.reload();
  await expect(page.getByLabel("Bio")).toHaveValue("Just a hobby, won't be big.");
  await expect(page.getByLabel("Preferred AI model")).toHaveValue("mistral-large-latest");
  await expect(page.getByLabel("Display mode")).toHaveValue("dark");
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
});
