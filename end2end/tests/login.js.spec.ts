import { expect, test } from "@playwright/test";

test("log in with a wrong then a right password, then log out, without page reloads", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  await page.goto("/login?next=/");
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.evaluate(() => ((window as any).__noReload = true));

  await page.getByLabel("Username or email").fill("ada");
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert")).toContainText("Please enter a correct username or email and password.");

  await page.getByLabel("Password").fill("Tr4vel-Lisbon-Blue");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL("/");
  await expect(page.getByTestId("user-name")).toHaveText("ada");
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);

  // The header's logout is a fetch of its own (the menu carries no server-function client): still no reload.
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page.getByRole("banner").getByRole("link", { name: "Log in" })).toBeVisible();
  await expect(page).toHaveURL("/");
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
  await page.reload();
  await expect(page.getByRole("banner").getByRole("link", { name: "Log in" })).toBeVisible();
  expect(errors).toEqual([]);
});
