import { expect, test } from "@playwright/test";
import path from "node:path";
import { register } from "./support";

// Import without JavaScript: the file is a multipart form post, the preview a page, the confirmation a form.

const CHATGPT = path.join(process.cwd(), "..", "tests", "fixtures", "import", "chatgpt.json");

test("without JavaScript: preview a ChatGPT export, import it, open a conversation with its branches", async ({ page }) => {
  await register(page, "importer_nojs", { js: false });
  await page.goto("/settings");
  await page.getByTestId("import-link").click();
  await expect(page).toHaveURL("/settings/import");

  await page.locator("#import-file").setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hello") });
  await page.getByTestId("import-preview").click();
  await expect(page.getByTestId("import-error")).toContainText("This file is not JSON");

  await page.locator("#import-file").setInputFiles(CHATGPT);
  await page.getByTestId("import-preview").click();
  await expect(page).toHaveURL(/\/settings\/import\?preview=[0-9a-f]{32}$/);
  await expect(page.getByTestId("import-item")).toHaveCount(3);
  await expect(page.getByTestId("import-not-carried")).toContainText("1 images");
  const preview = page.url();
  await page.getByTestId("import-confirm").click();
  await expect(page).toHaveURL(preview);
  await expect(page.getByTestId("import-done")).toHaveText("Imported 2 conversations.");

  await page.getByRole("link", { name: "Tea brewing" }).click();
  await expect(page).toHaveURL(/\/chat\/\d+$/);
  await expect(page.getByTestId("message-assistant").last()).toContainText("Steep green tea at 80 °C.");
  await expect(page.getByTestId("branch-position").first()).toHaveText("2/2");
});
