import { expect, test, type Page } from "@playwright/test";
import { fitsAndAxeClean, hydrated, register, watch } from "./support";

// Attachments with JavaScript: the paperclip, drag-and-drop and paste, chips with thumbnails and progress, a refused
// file's error on its chip, remove, the vision warning, a failed send that keeps the files, and the message showing
// what it carries — at phone and desktop widths, axe-clean, without a console error.

const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAFklEQVR4nGM4YWNDEmIY1TCqYfhqAACrxkAQIqaBzAAAAABJRU5ErkJggg==",
  "base64",
);
const image = { name: "red square.png", mimeType: "image/png", buffer: PNG };
const notes = { name: "notes.md", mimeType: "text/markdown", buffer: Buffer.from("# Notes\n\nThe launch code is PELICAN-42.\n") };

const chips = (page: Page) => page.getByTestId("file-chip");

/** Nothing wider than the window, axe-clean (serious and critical). */
async function looksRight(page: Page, label: string) {
  await fitsAndAxeClean(page, label);
}

/** Drops `files` on the element `selector` as a browser does (dragover, then drop, with a DataTransfer). */
async function drop(page: Page, selector: string, files: { name: string; type: string; text: string }[]) {
  await page.evaluate(
    ({ selector, files }) => {
      const target = document.querySelector(selector)!;
      const data = new DataTransfer();
      for (const f of files) data.items.add(new File([f.text], f.name, { type: f.type }));
      target.dispatchEvent(new DragEvent("dragover", { bubbles: true, cancelable: true, dataTransfer: data }));
      target.dispatchEvent(new DragEvent("drop", { bubbles: true, cancelable: true, dataTransfer: data }));
    },
    { selector, files },
  );
}

for (const size of [
  { width: 390, height: 844 },
  { width: 1280, height: 800 },
]) {
  test(`files at ${size.width}px: the paperclip uploads, chips show, the message carries an image and a document`, async ({
    page,
  }) => {
    await page.setViewportSize(size);
    const w = watch(page);
    await register(page, `files${size.width}`);
    await hydrated(page);
    await expect(page.getByTestId("composer-files")).toBeHidden();

    // The paperclip opens the browser's file chooser.
    const chooser = page.waitForEvent("filechooser");
    await page.getByTestId("attach").click();
    await (await chooser).setFiles([image, notes]);
    await expect(chips(page)).toHaveCount(2);
    await expect(chips(page).nth(0)).toHaveAttribute("data-state", "done");
    await expect(chips(page).nth(1)).toHaveAttribute("data-state", "done");
    await expect(chips(page).nth(0).locator("img.file-thumb")).toBeVisible();
    await expect(chips(page).nth(1)).toContainText("notes.md");
    await expect(chips(page).nth(1)).toContainText(/MARKDOWN · \d+ B/);
    // The focus is back in the message box, ready to type.
    await expect(page.getByTestId("composer")).toBeFocused();
    await looksRight(page, `chips at ${size.width}px`);
    await page.screenshot({ path: `test-results/files-chips-${size.width}.png` });

    await page.getByTestId("composer").fill("What do these say?");
    await page.getByTestId("composer").press("Enter");
    await expect(page).toHaveURL(/\/chat\/\d+$/);
    const sent = page.getByTestId("message-user").last();
    const files = sent.getByTestId("message-files");
    await expect(files.locator("img")).toHaveAttribute("alt", "red square.png");
    await expect(files.getByRole("link", { name: "Download notes.md" })).toHaveAttribute("href", /\/api\/files\/\d+\/content\/$/);
    await expect(files.getByRole("link", { name: "Open red square.png full size" })).toBeVisible();
    // The thumbnail's image loads (the owner's session reads it).
    await expect.poll(() => files.locator("img").evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(16);
    // The model saw the image; the composer is empty again.
    await expect(page.getByTestId("message-assistant").last()).toContainText("[saw 1 image(s)]", { timeout: 15_000 });
    await expect(chips(page)).toHaveCount(0);
    await looksRight(page, `conversation at ${size.width}px`);
    await page.screenshot({ path: `test-results/files-message-${size.width}.png` });

    // The Markdown export lists the files.
    const id = page.url().split("/").pop();
    const md = await (await page.request.get(`/chat/${id}/export/md`)).text();
    expect(md).toContain("- red square.png (image/png,");
    expect(md).toContain("- notes.md (text/markdown,");

    // Editing the message lists its files, ticked: they go with the edit unless unticked.
    await sent.getByTestId("edit").click();
    const keep = page.getByTestId("edit-files");
    await expect(keep.getByRole("checkbox", { checked: true })).toHaveCount(2);
    await expect(keep.getByRole("checkbox", { name: "notes.md" })).toBeChecked();
    await looksRight(page, `edit with files at ${size.width}px`);
    expect(w.errors).toEqual([]);
  });
}

test("files: drop and paste attach, a refused file says why on its chip, Remove takes a file away", async ({ page }) => {
  const w = watch(page, [/Failed to load resource: the server responded with a status of 400/]);
  await register(page, "filesdrop");
  await hydrated(page);
  await expect(page.getByTestId("composer")).toBeVisible();
  await drop(page, '[data-testid="scroller"]', [{ name: "dropped.txt", type: "text/plain", text: "dropped text" }]);
  await expect(chips(page)).toHaveCount(1);
  await expect(chips(page).first()).toHaveAttribute("data-state", "done");
  await expect(chips(page).first()).toContainText("dropped.txt");

  // A screenshot from the clipboard, pasted into the box.
  await page.getByTestId("composer").focus();
  await page.evaluate((b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const data = new DataTransfer();
    data.items.add(new File([bytes], "image.png", { type: "image/png" }));
    document.getElementById("content")!.dispatchEvent(new ClipboardEvent("paste", { bubbles: true, cancelable: true, clipboardData: data }));
  }, PNG.toString("base64"));
  await expect(chips(page)).toHaveCount(2);
  await expect(chips(page).nth(1)).toHaveAttribute("data-state", "done");
  // Nothing was typed into the box by the paste.
  await expect(page.getByTestId("composer")).toHaveValue("");

  // A file ThiCode does not read: refused, the reason on its chip.
  await page.getByTestId("file-input").setInputFiles({ name: "tool.exe", mimeType: "application/octet-stream", buffer: Buffer.from([0x4d, 0x5a, 0x90, 0, 3, 0, 0, 0, 4, 0, 0, 0, 0xff, 0xff, 0, 0]) });
  await expect(chips(page)).toHaveCount(3);
  const refused = chips(page).nth(2);
  await expect(refused).toHaveAttribute("data-state", "failed");
  await expect(refused.getByTestId("file-error")).toContainText("is not a kind of file ThiCode reads");

  // Remove: the chip goes, and a stored file is deleted on the server.
  await refused.getByTestId("remove-file").click();
  await expect(chips(page)).toHaveCount(2);
  await expect(page.getByTestId("composer")).toBeFocused();
  const deleted = page.waitForResponse((r) => r.request().method() === "DELETE" && /\/api\/files\/\d+\/$/.test(r.url()));
  await chips(page).first().getByTestId("remove-file").click();
  expect((await deleted).status()).toBe(204);
  await expect(chips(page)).toHaveCount(1);
  await looksRight(page, "after drop and paste");
  expect(w.errors).toEqual([]);
});

test("files: a slow upload shows its progress and holds the send until it is stored", async ({ page }) => {
  const w = watch(page);
  await register(page, "filesslow");
  await hydrated(page);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: 400 * 1024,
  });
  const big = Buffer.from("All work and no play makes Jack a dull boy.\n".repeat(48_000));
  await page.getByTestId("file-input").setInputFiles({ name: "big.txt", mimeType: "text/plain", buffer: big });
  const chip = chips(page).first();
  await expect(chip).toHaveAttribute("data-state", "uploading");
  await expect(chip.locator("progress")).toBeVisible();
  await expect(chip.locator("progress")).toHaveAccessibleName("Uploading big.txt");
  await page.getByTestId("composer").fill("Summarise it");
  await expect(page.getByTestId("send")).toBeDisabled();
  await page.getByTestId("composer").press("Enter");
  await expect(page).toHaveURL("/chat");
  await expect(chip).toHaveAttribute("data-state", "done", { timeout: 20_000 });
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await expect(page.getByTestId("send")).toBeEnabled();
  await page.getByTestId("send").click();
  await expect(page).toHaveURL(/\/chat\/\d+$/);
  await expect(page.getByTestId("message-user").last().getByTestId("message-files")).toContainText("big.txt");
  expect(w.errors).toEqual([]);
});

test("files: an image with a model that cannot read images is flagged before sending, with a model that can", async ({
  page,
}) => {
  const w = watch(page);
  await register(page, "filesvision");
  await hydrated(page);
  const picker = page.getByTestId("model-picker");
  await expect(picker.locator("option", { hasText: "mistral-small-latest · reads images" })).toHaveCount(1);
  await expect(picker.locator("option", { hasText: "codestral-latest" })).not.toContainText("reads images");
  await picker.selectOption("codestral-latest");
  await page.getByTestId("file-input").setInputFiles(image);
  await expect(chips(page).first()).toHaveAttribute("data-state", "done");
  const warning = page.getByTestId("vision-warning");
  await expect(warning).toContainText("This model cannot read images.");
  await looksRight(page, "vision warning");
  await page.getByTestId("use-vision-model").click();
  await expect(picker).toHaveValue("mistral-small-latest");
  await expect(warning).toBeHidden();
  expect(w.errors).toEqual([]);
});

test("files: a send that fails keeps its files and text; sending again carries them", async ({ page }) => {
  const w = watch(page, [/Failed to load resource/]);
  await register(page, "filesfail");
  await hydrated(page);
  await page.getByTestId("file-input").setInputFiles(notes);
  await expect(chips(page).first()).toHaveAttribute("data-state", "done");
  await page.route(/send_message/, (route) => route.abort("connectionreset"));
  await page.getByTestId("composer").fill("Read my notes");
  await page.getByTestId("send").click();
  await expect(page.getByTestId("chat-error")).toBeVisible();
  await expect(page).toHaveURL("/chat");
  await expect(chips(page)).toHaveCount(1);
  await expect(page.getByTestId("composer")).toHaveValue("Read my notes");
  await page.unroute(/send_message/);
  await page.getByTestId("send").click();
  await expect(page).toHaveURL(/\/chat\/\d+$/);
  await expect(page.getByTestId("message-user").last().getByTestId("message-files")).toContainText("notes.md");
  await expect(chips(page)).toHaveCount(0);
  expect(w.errors).toEqual([]);
});

test("files: files kept by a refused send (?attach=) show as chips, hydrate, and Remove drops one in place", async ({ page }) => {
  const w = watch(page);
  await register(page, "fileskept");
  await hydrated(page);
  const csrf = (await page.context().cookies()).find((c) => c.name === "csrftoken")!.value;
  const upload = async (name: string, mimeType: string, buffer: Buffer) => {
    const res = await page.request.post("/api/files/", {
      multipart: { file: { name, mimeType, buffer } },
      headers: { "X-CSRFToken": csrf, Origin: new URL(page.url()).origin },
    });
    expect(res.status(), await res.text()).toBe(201);
    const f = await res.json();
    return { id: f.id, name: f.name, type: f.type, size: f.size, kind: f.kind };
  };
  const a = await upload("kept.md", "text/markdown", Buffer.from("# Kept"));
  const b = await upload("dot.png", "image/png", PNG);
  await page.goto(`/chat?attach=${encodeURIComponent(JSON.stringify([a, b]))}&prompt=Still+here`);
  await hydrated(page);
  await expect(chips(page)).toHaveCount(2);
  await expect(page.getByTestId("composer")).toHaveValue("Still here");
  await looksRight(page, "kept files");
  await page.screenshot({ path: "test-results/files-kept.png" });
  const url = page.url();
  await chips(page).first().getByTestId("remove-file").click();
  await expect(chips(page)).toHaveCount(1);
  expect(page.url()).toBe(url);
  await page.getByTestId("send").click();
  await expect(page).toHaveURL(/\/chat\/\d+$/);
  const files = page.getByTestId("message-user").last().getByTestId("message-files");
  await expect(files.locator("img")).toHaveAttribute("alt", "dot.png");
  await expect(files).not.toContainText("kept.md");
  expect(w.errors).toEqual([]);
});
