import { expect, test } from "@playwright/test";

test("French without JavaScript: the switch, then a registration with its errors in French", async ({ page }) => {
  await page.goto("/register");
  await page.getByRole("button", { name: "Français" }).click();
  await expect(page).toHaveURL("/register");
  await expect(page.locator("html")).toHaveAttribute("lang", "fr");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Créer un compte");

  await page.getByLabel("Nom d’utilisateur").fill("pierre-nojs");
  await page.getByLabel("E-mail").fill("pierre-nojs@example.com");
  await page.getByLabel("Mot de passe", { exact: true }).fill("12345678");
  await page.getByLabel("Confirmez le mot de passe").fill("12345678");
  await page.getByRole("button", { name: "Créer le compte" }).click();
  await expect(page.locator("#password1-errors")).toContainText("Ce mot de passe est trop courant.");
  await expect(page.locator("#password1-errors")).toContainText("Ce mot de passe est entièrement numérique.");
  await expect(page.getByLabel("Nom d’utilisateur")).toHaveValue("pierre-nojs");

  await page.getByLabel("Mot de passe", { exact: true }).fill("Radium-Polonium-1898");
  await page.getByLabel("Confirmez le mot de passe").fill("Radium-Polonium-1898");
  await page.getByRole("button", { name: "Créer le compte" }).click();
  await expect(page.getByTestId("user-name")).toHaveText("pierre-nojs");
  await expect(page.getByRole("button", { name: "Se déconnecter" })).toBeVisible();
  await page.getByRole("button", { name: "English" }).click();
  await expect(page.getByRole("button", { name: "Log out" })).toBeVisible();
});
