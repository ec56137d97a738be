import { expect, test } from "@playwright/test";

test("register with plain form posts, keeping the input after an error", async ({ page }) => {
  await page.goto("/register");
  await page.getByLabel("Username").fill("linus-nojs");
  await page.getByLabel("Email").fill("linus-nojs@example.com");
  await page.getByLabel("Password", { exact: true }).fill("short");
  await page.getByLabel("Confirm password").fill("short");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.locator("#password1-errors")).toContainText("This password is too short.");
  await expect(page.getByLabel("Username")).toHaveValue("linus-nojs");
  await expect(page.getByLabel("Email")).toHaveValue("linus-nojs@example.com");

  await page.getByLabel("Password", { exact: true }).fill("Penguin-Kernel-1991");
  await page.getByLabel("Confirm password").fill("Penguin-Kernel-1991");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByTestId("user-name")).toHaveText("linus-nojs");
});
