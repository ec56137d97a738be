import { expect, test } from "@playwright/test";

test("settings work with plain form posts", async ({ page }) => {
  await page.goto("/settings");
  await expect(page).toHaveURL(/\/login\?next=\/settings$/);
  await page.getByLabel("Username or email").fill("ada");
  await page.getByLabel("Password").fill("Tr4vel-Lisbon-Blue");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL("/settings");

  await page.getByLabel("Bio").fill("Analyst of engines.");
  await page.getByLabel("Display mode").selectOption("light");
  await page.getByLabel("Language").selectOption("fr");
  await page.getByRole("button", { name: "Save settings" }).click();
  // The page comes back in the language just chosen.
  await expect(page.getByRole("status")).toHaveText("Vos réglages ont été enregistrés.");
  await expect(page.locator("html")).toHaveAttribute("lang", "fr");
  await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
  await expect(page.getByLabel("Biographie")).toHaveValue("Analyst of engines.");
  await expect(page.getByLabel("Langue")).toHaveValue("fr");

  await page.getByLabel("Langue").selectOption("en");
  await page.getByRole("button", { name: "Enregistrer" }).click();
  await expect(page.getByRole("status")).toHaveText("Your settings were saved.");
  await expect(page.getByLabel("Language")).toHaveValue("en");
  await page.getByRole("button", { name: "Log out" }).click();
});
