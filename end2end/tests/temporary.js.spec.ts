import { expect, test } from "@playwright/test";
import { fitsAndAxeCleanAtBothSizes, hydrated, onDisk, register, watch } from "./support";

// Temporary chats (issue #29): started with the new chat's toggle, streamed, kept across a reload of the tab, never
// listed, never on disk, and gone once discarded or once its tab is closed.

test("a temporary chat streams, survives a reload, leaves nothing on disk and is gone when discarded", async ({ page }) => {
  const w = watch(page);
  await register(page, "temper");
  await hydrated(page);
  const secret = `Zanzibar-${Date.now()}`;
  const toggle = page.getByTestId("temporary-toggle");
  await expect(toggle).toBeVisible();
  await fitsAndAxeCleanAtBothSizes(page, "new chat with the temporary toggle");
  await toggle.check();
  await page.getByTestId("composer").fill(`Keep this between us: ${secret}`);
  await page.getByTestId("composer").press("Enter");
  await expect(page).toHaveURL(/\/chat\/-\d+$/);
  const url = new URL(page.url()).pathname;
  await expect(page.getByTestId("temporary-banner")).toBeVisible();
  await expect(page.getByTestId("temporary-badge")).toHaveText("Temporary");
  const reply = page.getByTestId("message-assistant");
  await expect(reply).toHaveAttribute("data-status", "delivered", { timeout: 20_000 });
  await expect(reply).toContainText(`Fake reply to: Keep this between us: ${secret}`);
  await expect(page.getByTestId("composer")).toBeFocused();
  // Not listed, and nothing of it anywhere on disk.
  await expect(page.locator(".sidebar").getByText(secret)).toHaveCount(0);
  expect(onDisk(secret)).toEqual([]);
  // The same tab reloads: still there.
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("message-user")).toContainText(secret);
  await expect(page.getByTestId("message-assistant")).toHaveAttribute("data-status", "delivered");
  // What does not apply to a chat that is not stored is not offered.
  await expect(page.getByTestId("fork")).toHaveCount(0);
  await expect(page.getByTestId("attach")).toHaveCount(0);
  await expect(page.getByTestId("conversation-menu")).toHaveCount(0);
  await fitsAndAxeCleanAtBothSizes(page, "temporary chat");
  await page.screenshot({ path: "test-results/temporary-chat.png" });
  // A second message streams in the same chat.
  await page.getByTestId("composer").fill("One more");
  await page.getByTestId("composer").press("Enter");
  await expect(page.getByTestId("message-assistant").nth(1)).toHaveAttribute("data-status", "delivered", { timeout: 20_000 });
  await expect(page).toHaveURL(url);
  expect(onDisk(secret)).toEqual([]);

  await page.getByTestId("discard-temporary").click();
  await expect(page).toHaveURL("/chat");
  expect((await page.request.get(`/api/chat/conversations/${url.split("/").pop()}/`)).status()).toBe(404);
  expect(w.errors).toEqual([]);
  // Its address now answers 404 (the document's status is the one console error expected).
  await page.goto(url);
  await hydrated(page);
  await expect(page.getByTestId("temporary-gone")).toBeVisible();
  await fitsAndAxeCleanAtBothSizes(page, "a temporary chat that has ended");
  expect(w.errors).toEqual(["console: Failed to load resource: the server responded with a status of 404 (Not Found)"]);
});

test("closing the tab forgets the chat", async ({ page, context }) => {
  test.setTimeout(60_000);
  await register(page, "closer");
  await hydrated(page);
  await page.getByTestId("temporary-toggle").check();
  await page.getByTestId("composer").fill("Forget me when I close");
  await page.getByTestId("composer").press("Enter");
  await expect(page).toHaveURL(/\/chat\/-\d+$/);
  const id = new URL(page.url()).pathname.split("/").pop();
  await expect(page.getByTestId("message-assistant")).toHaveAttribute("data-status", "delivered", { timeout: 20_000 });
  await page.close({ runBeforeUnload: true });
  // The tab's goodbye, then the grace for a reload (15 s), then the next sweep (every 5 s). Nothing may look at the
  // chat meanwhile: a look by its owner is a reload's, and takes the goodbye back.
  const other = await context.newPage();
  await other.waitForTimeout(21_000);
  expect((await other.request.get(`/api/chat/conversations/${id}/`)).status()).toBe(404);
});
