import { expect, test } from "@playwright/test";

test("admin: the login page first, then the overview for staff; the client router guards it too", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  await page.goto("/admin");
  await expect(page).toHaveURL("/login?next=/admin");
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.getByLabel("Username or email").fill("ada");
  await page.getByLabel("Password").fill("Tr4vel-Lisbon-Blue");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL("/admin");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Administration");
  await expect(page.getByTestId("admin-stats")).toContainText("accounts");
  await expect(page.getByRole("cell", { name: "ada@example.com" })).toBeVisible();

  // Home, then back through the menu's link (client-side navigation).
  await page.getByRole("link", { name: "ThiCode" }).click();
  await expect(page).toHaveURL("/");
  await page.getByTestId("admin-link").click();
  await expect(page).toHaveURL("/admin");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Administration");

  // Logged out without a reload, going back to the admin page lands on the login page.
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page.getByRole("banner").getByRole("link", { name: "Log in" })).toBeVisible();
  await expect(page).toHaveURL("/");
  await page.goBack();
  await expect(page).toHaveURL("/login?next=/admin");
  await expect(page.getByRole("cell", { name: "ada@example.com" })).toHaveCount(0);
  expect(errors).toEqual([]);
});
