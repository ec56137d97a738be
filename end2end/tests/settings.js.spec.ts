import { expect, test } from "@playwright/test";

test("settings: live bio counter, model and theme saved, shown again after reload", async ({ page }) => {
  await page.goto("/settings");
  await expect(page).toHaveURL(/\/login\?next=\/settings$/);
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.getByLabel("Username or email").fill("ada");
  await page.getByLabel("Password").fill("Tr4vel-Lisbon-Blue");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL("/settings");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Settings");

  const bio = page.getByLabel("Bio");
  await bio.fill("Writes the first program.");
  await expect(page.locator("#bio-counter")).toHaveText("25 / 500");
  await page.getByLabel("Preferred AI model").selectOption("codestral-latest");
  await page.getByLabel("Display mode").selectOption("dark");
  await page.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByRole("status")).toHaveText("Your settings were saved.");
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");

  await page.reload();
  await expect(page.getByLabel("Bio")).toHaveValue("Writes the first program.");
  await expect(page.getByLabel("Preferred AI model")).toHaveValue("codestral-latest");
  await expect(page.getByLabel("Display mode")).toHaveValue("dark");
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");

  await page.getByLabel("Bio").fill("x".repeat(501));
  await expect(page.locator("#bio-counter")).toHaveClass(/over/);
  await page.getByRole("button", { name: "Save settings" }).click();
  await expect(page.locator("#bio-errors")).toContainText("Ensure this field has no more than 500 characters");
  await page.getByRole("button", { name: "Log out" }).click();
});

test("settings: what is typed in the bio before the page hydrates is kept, and the counter follows it", async ({ page }) => {
  await page.goto("/login?next=/settings");
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.getByLabel("Username or email").fill("ada");
  await page.getByLabel("Password").fill("Tr4vel-Lisbon-Blue");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL("/settings");
  // The next load's client code is held back until the text is typed.
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route("**/*.wasm", async (route) => {
    await held;
    await route.continue();
  });
  await page.reload({ waitUntil: "domcontentloaded" });
  await page.getByLabel("Bio").fill("typed before the page came to life");
  release();
  await page.waitForSelector('body[data-hydrated="true"]');
  await expect(page.getByLabel("Bio")).toHaveValue("typed before the page came to life");
  await expect(page.locator("#bio-counter")).toHaveText("34 / 500");
  await page.unroute("**/*.wasm");
});
