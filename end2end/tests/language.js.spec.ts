import { expect, test, type Page } from "@playwright/test";

/** Console errors and uncaught exceptions, except the 400 a server function answers for a form with errors. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() !== "error") return;
    const url = msg.location().url ?? "";
    if (msg.text().includes("status of 400") && url.includes("/_server/register")) return;
    errors.push(`${msg.text()} (${url})`);
  });
  page.on("pageerror", (err) => errors.push(err.message));
  return errors;
}

async function hydrated(page: Page) {
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 20_000 });
}

test("French: the switch, hydrated French pages, messages in French, the language follows the account", async ({ page }) => {
  const errors = watchErrors(page);
  const h1 = page.getByRole("heading", { level: 1 });
  await page.goto("/");
  await hydrated(page);
  await page.getByRole("button", { name: "Français" }).click();
  await expect(page.locator("html")).toHaveAttribute("lang", "fr");
  await expect(h1).toHaveText("Discutez avec une IA sur votre propre serveur");
  await expect(page).toHaveTitle("Votre propre chat IA · ThiCode");
  await hydrated(page);

  // Client-side navigation and a server function answered in French, without reloading the page.
  await page.getByRole("link", { name: "Inscription" }).click();
  await expect(page).toHaveURL("/register");
  await expect(h1).toHaveText("Créer un compte");
  await page.evaluate(() => ((window as any).__noReload = true));
  await page.getByLabel("Nom d’utilisateur").fill("marie-js");
  await page.getByLabel("E-mail").fill("marie-js@example.com");
  await page.getByLabel("Mot de passe", { exact: true }).fill("short");
  await page.getByLabel("Confirmez le mot de passe").fill("shorts");
  await page.getByRole("button", { name: "Créer le compte" }).click();
  await expect(page.locator("#password1-errors")).toContainText("Ce mot de passe est trop court.");
  await expect(page.locator("#password2-errors")).toContainText("Les deux mots de passe ne correspondent pas.");
  await page.getByLabel("Mot de passe", { exact: true }).fill("Radium-Polonium-1898");
  await page.getByLabel("Confirmez le mot de passe").fill("Radium-Polonium-1898");
  await page.getByRole("button", { name: "Créer le compte" }).click();
  await expect(page.getByTestId("user-name")).toHaveText("marie-js");
  await expect(page.getByTestId("chat-link")).toHaveAccessibleName("Discussions");
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);

  // The settings show the language of the page; choosing English switches the whole interface at once.
  await page.getByTestId("user-name").click();
  await expect(h1).toHaveText("Réglages");
  await expect(page.getByLabel("Langue")).toHaveValue("fr");
  await page.getByLabel("Langue").selectOption("en");
  await page.getByRole("button", { name: "Enregistrer" }).click();
  await expect(h1).toHaveText("Settings");
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await expect(page.getByRole("status")).toHaveText("Your settings were saved.");
  await expect(page.getByLabel("Language")).toHaveValue("en");
  await hydrated(page);

  // Saved again from the same address (/settings?saved=1): the language still switches at once.
  await page.getByLabel("Language").selectOption("fr");
  await page.getByRole("button", { name: "Save settings" }).click();
  await expect(h1).toHaveText("Réglages");
  await hydrated(page);
  await page.getByLabel("Langue").selectOption("en");
  await page.getByRole("button", { name: "Enregistrer" }).click();
  await expect(h1).toHaveText("Settings");
  await hydrated(page);

  // Logged out, this browser switches to French; logging in brings back the account's English.
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page.getByRole("banner").getByRole("link", { name: "Log in" })).toBeVisible();
  await page.getByRole("button", { name: "Français" }).click();
  await expect(page.locator("html")).toHaveAttribute("lang", "fr");
  await hydrated(page);
  await page.getByRole("link", { name: "Connexion" }).click();
  await page.getByLabel("Nom d’utilisateur ou e-mail").fill("marie-js");
  await page.getByLabel("Mot de passe").fill("Radium-Polonium-1898");
  await page.getByRole("button", { name: "Se connecter" }).click();
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  // Logging in lands in the chat.
  await expect(page).toHaveURL("/chat");
  await expect(h1).toHaveText("New conversation");
  await expect(page.getByTestId("user-name")).toHaveText("marie-js");
  expect(errors).toEqual([]);
});
