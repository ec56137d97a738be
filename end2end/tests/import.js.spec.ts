import { expect, test } from "@playwright/test";
import path from "node:path";
import { fitsAndAxeCleanAtBothSizes, hydrated, register, watch } from "./support";

// Import (issue #29): a ChatGPT export built from the format's published description (a tree of messages with a
// regenerated answer, a picture and a browsing call) previewed, imported with its branches, and not added twice.

const CHATGPT = path.join(process.cwd(), "..", "tests", "fixtures", "import", "chatgpt.json");

test("import a ChatGPT export from the settings: preview, import, its branches, nothing twice", async ({ page }) => {
  // The file that is no export is answered 400, which the browser logs: the one console error expected.
  const w = watch(page, [/status of 400 \(Bad Request\)/]);
  await register(page, "importer");
  await page.goto("/settings");
  await hydrated(page);
  let loads = 0;
  page.on("load", () => (loads += 1));
  await page.getByTestId("import-link").click();
  await expect(page).toHaveURL("/settings/import");
  await expect(page.getByRole("heading", { name: "Import conversations" })).toBeVisible();
  await fitsAndAxeCleanAtBothSizes(page, "import form");

  // A file that is no export: a message under the field, no navigation.
  await page.locator("#import-file").setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hello") });
  await page.getByTestId("import-preview").click();
  await expect(page.getByTestId("import-error")).toContainText("This file is not JSON");
  await expect(page.locator("#import-file")).toHaveAttribute("aria-invalid", "true");
  await expect(page).toHaveURL("/settings/import");
  await fitsAndAxeCleanAtBothSizes(page, "import error");

  // The preview.
  await page.locator("#import-file").setInputFiles(CHATGPT);
  await page.getByTestId("import-preview").click();
  await expect(page).toHaveURL(/\/settings\/import\?preview=[0-9a-f]{32}$/);
  await expect(page.getByTestId("import-item")).toHaveCount(3);
  await expect(page.getByTestId("import-summary")).toContainText("ChatGPT export: 3 conversations — 2 new, 0 already in your account, 1 left out.");
  await expect(page.getByTestId("import-not-carried")).toContainText("1 images, 1 tool calls");
  await expect(page.getByTestId("import-item").first()).toContainText("Tea brewing");
  await expect(page.getByTestId("import-item").first()).toContainText("5 messages, 2 branches");
  await fitsAndAxeCleanAtBothSizes(page, "import preview");
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: "test-results/import-preview-390.png", fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });

  // The import.
  await page.getByTestId("import-confirm").click();
  await expect(page.getByTestId("import-done")).toHaveText("Imported 2 conversations.");
  await expect(page.locator('[data-testid="import-item"][data-outcome="imported"]')).toHaveCount(2);
  await fitsAndAxeCleanAtBothSizes(page, "import done");
  await page.screenshot({ path: "test-results/import-done.png", fullPage: true });
  expect(loads, "no reload").toBe(0);

  // The conversation, on the branch ChatGPT showed, the other answer a branch away.
  await page.getByTestId("import-item").first().getByRole("link", { name: "Tea brewing" }).click();
  await expect(page).toHaveURL(/\/chat\/\d+$/);
  await expect(page.getByTestId("message-assistant").last()).toContainText("Steep green tea at 80 °C.");
  await expect(page.getByTestId("message-user").last()).toContainText("What about this cup?");
  await expect(page.getByTestId("branch-position").first()).toHaveText("2/2");
  await expect(page.getByTestId("conversation-link").filter({ hasText: "Tea brewing" })).toHaveCount(1);
  await fitsAndAxeCleanAtBothSizes(page, "imported conversation");
  expect(loads, "no reload").toBe(0);

  // The same file again adds nothing.
  await page.goto("/settings/import");
  await hydrated(page);
  await page.locator("#import-file").setInputFiles(CHATGPT);
  await page.getByTestId("import-preview").click();
  await expect(page.getByTestId("import-nothing")).toBeVisible();
  await expect(page.locator('[data-testid="import-item"][data-outcome="already_imported"]')).toHaveCount(2);
  await expect(page.getByTestId("import-confirm")).toHaveCount(0);
  expect(w.errors).toEqual([]);
});

test("the conversations export comes back as it was, in another account", async ({ page, browser }) => {
  await register(page, "exporter");
  await page.goto("/settings/import");
  await hydrated(page);
  await page.locator("#import-file").setInputFiles(CHATGPT);
  await page.getByTestId("import-preview").click();
  await page.getByTestId("import-confirm").click();
  await expect(page.getByTestId("import-done")).toBeVisible();
  const download = await page.request.get("/settings/export/conversations.json");
  expect(download.status()).toBe(200);
  const exported = await download.body();

  const other = await browser.newContext();
  const second = await other.newPage();
  const w = watch(second);
  await register(second, "exportee");
  await second.goto("/settings/import");
  await hydrated(second);
  await second.locator("#import-file").setInputFiles({ name: "thicode-conversations.json", mimeType: "application/json", buffer: exported });
  await second.getByTestId("import-preview").click();
  await expect(second.getByTestId("import-summary")).toContainText("ThiCode export: 2 conversations — 2 new");
  await second.getByTestId("import-confirm").click();
  await expect(second.getByTestId("import-done")).toHaveText("Imported 2 conversations.");
  const again = await (await second.request.get("/settings/export/conversations.json")).json();
  const mine = JSON.parse(exported.toString());
  const titles = (doc: { conversations: { title: string; messages: unknown[] }[] }) =>
    doc.conversations.map((c) => `${c.title}:${c.messages.length}`).sort();
  expect(titles(again)).toEqual(titles(mine));
  expect(w.errors).toEqual([]);
  await other.close();
});
