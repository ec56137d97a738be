import { expect, test } from "@playwright/test";

test("log in and out with plain form posts", async ({ page }) => {
  await page.goto("/");
  await page.getByRole("link", { name: "Log in" }).click();
  await expect(page).toHaveURL("/login");

  await page.getByLabel("Username or email").fill("ada@example.com");
  await page.getByLabel("Password").fill("wrong-password");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert")).toContainText("Please enter a correct username or email and password.");
  await expect(page.getByLabel("Username or email")).toHaveValue("ada@example.com");

  await page.getByLabel("Password").fill("Tr4vel-Lisbon-Blue");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByTestId("user-name")).toHaveText("ada");

  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page.getByRole("link", { name: "Log in" })).toBeVisible();
});
