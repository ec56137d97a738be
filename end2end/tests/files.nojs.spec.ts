import { expect, test, type Page } from "@playwright/test";
import { register } from "./support";

// Attachments without JavaScript: the composer's plain file input posts multipart to /chat/send; a refused send
// comes back with its reason and the files it already stored, which the next send carries.

const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAFklEQVR4nGM4YWNDEmIY1TCqYfhqAACrxkAQIqaBzAAAAABJRU5ErkJggg==",
  "base64",
);

/** Nothing wider than the window (measured by the browser, without running a script in the page). */
async function looksRight(page: Page, label: string) {
  const width = page.viewportSize()!.width;
  for (const selector of [".composer", ".composer-files", "#attach-input", ".messages"]) {
    for (const box of await page.locator(selector).all()) {
      const b = await box.boundingBox();
      if (b) expect(b.x + b.width, `${label}: ${selector} fits`).toBeLessThanOrEqual(width);
    }
  }
}

for (const size of [
  { width: 390, height: 844 },
  { width: 1280, height: 800 },
]) {
  test(`files without JavaScript at ${size.width}px: the file input sends files with the message`, async ({ page }) => {
    await page.setViewportSize(size);
    await register(page, `nojsfiles${size.width}`, { js: false });
    const input = page.getByLabel("Attach files (optional)");
    await expect(input).toBeVisible();
    await looksRight(page, `composer at ${size.width}px`);
    await page.getByTestId("composer").fill("Look at these");
    await input.setInputFiles([
      { name: "red.png", mimeType: "image/png", buffer: PNG },
      { name: "plan.txt", mimeType: "text/plain", buffer: Buffer.from("Step one: ship it.") },
    ]);
    await page.getByTestId("send").click();
    await expect(page).toHaveURL(/\/chat\/\d+$/);
    const files = page.getByTestId("message-user").last().getByTestId("message-files");
    await expect(files.locator("img")).toHaveAttribute("alt", "red.png");
    await expect(files.getByRole("link", { name: "Download plan.txt" })).toBeVisible();
    await expect(page.getByTestId("message-assistant").last()).toContainText("[saw 1 image(s)]");
    await looksRight(page, `conversation at ${size.width}px`);
    await page.screenshot({ path: `test-results/files-nojs-${size.width}.png` });
  });
}

test("files without JavaScript: a refused send says why and keeps the stored files for the next one", async ({ page }) => {
  await register(page, "nojsrefused", { js: false });
  await page.getByTestId("model-picker").selectOption("codestral-latest");
  await page.getByTestId("composer").fill("What colour is it?");
  await page.getByLabel("Attach files (optional)").setInputFiles({ name: "red.png", mimeType: "image/png", buffer: PNG });
  await page.getByTestId("send").click();
  // Back on the new chat, with the reason and the image, stored once.
  await expect(page).toHaveURL(/\/chat\?attach=%5B.*&prompt=What\+colour\+is\+it%3F&__path=/);
  await expect(page.getByTestId("chat-error")).toContainText("cannot read images");
  await expect(page.getByTestId("chat-error")).toContainText("mistral-small-latest");
  const chip = page.getByTestId("file-chip");
  await expect(chip).toHaveCount(1);
  await expect(chip).toContainText("red.png");
  await looksRight(page, "refused send");
  // The text typed is back in the box; the next send (with a model that reads images) carries it.
  await expect(page.getByTestId("composer")).toHaveValue("What colour is it?");
  await page.getByTestId("model-picker").selectOption("mistral-small-latest");
  await page.getByTestId("send").click();
  await expect(page).toHaveURL(/\/chat\/\d+$/);
  await expect(page.getByTestId("message-user").last().getByTestId("message-files").locator("img")).toHaveAttribute("alt", "red.png");
  await expect(page.getByTestId("message-assistant").last()).toContainText("[saw 1 image(s)]");
});

test("files without JavaScript: a kept file's Remove link drops it from the next send and keeps the rest", async ({ page }) => {
  await register(page, "nojsremove", { js: false });
  await page.getByTestId("model-picker").selectOption("codestral-latest");
  await page.getByTestId("composer").fill("Colour?");
  await page.getByLabel("Attach files (optional)").setInputFiles([
    { name: "red.png", mimeType: "image/png", buffer: PNG },
    { name: "second.png", mimeType: "image/png", buffer: PNG },
  ]);
  await page.getByTestId("send").click();
  const chips = page.getByTestId("file-chip");
  await expect(chips).toHaveCount(2);
  await chips.filter({ hasText: "red.png" }).getByTestId("remove-file").click();
  // The page again without that file: the other one and the text typed are still there.
  await expect(chips).toHaveCount(1);
  await expect(chips).toContainText("second.png");
  await expect(page.getByTestId("composer")).toHaveValue("Colour?");
  await chips.getByTestId("remove-file").click();
  await expect(page).toHaveURL("/chat?prompt=Colour%3F");
  await expect(chips).toHaveCount(0);
  await expect(page.getByTestId("composer")).toHaveValue("Colour?");
  await page.getByTestId("composer").fill("Just text now");
  await page.getByTestId("send").click();
  await expect(page).toHaveURL(/\/chat\/\d+$/);
  await expect(page.getByTestId("message-user").last().getByTestId("message-files")).toHaveCount(0);
});
