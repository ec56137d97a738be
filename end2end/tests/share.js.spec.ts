import { expect, test } from "@playwright/test";
import { api, conversation, fitsAndAxeCleanAtBothSizes, hydrated, register, settle, unwatch, watch } from "./support";

// Conversations that travel (issue #29): a link made from the conversation's menu, read in a fresh browser without
// an account, copied into another account, revoked (404 at once); a branch forked into a new chat.

test("share from the menu, read it signed out, continue it in another account, revoke it: 404", async ({ page, browser }) => {
  const w = watch(page);
  await register(page, "sharer");
  // A title of its own: the automatic one is replaced when the first exchange names the conversation, at a time of
  // its own.
  const id = (await api(page, "/api/chat/conversations/", { initial_message: "How far is Porto from Lisbon?", title: "Porto trip" }))
    .id as number;
  await settle(page, id);
  await page.goto(`/chat/${id}`);
  await hydrated(page);
  let loads = 0;
  page.on("load", () => (loads += 1));

  await page.getByTestId("conversation-menu").click();
  await page.getByTestId("share").click();
  const dialog = page.locator("#share-dialog");
  await expect(dialog).toBeVisible();
  await dialog.getByTestId("create-share").click();
  const url = await dialog.getByTestId("share-url").inputValue();
  expect(url).toMatch(/\/s\/[0-9a-f]{64}$/);
  await expect(dialog.getByTestId("create-share")).toHaveText("Update link");
  await fitsAndAxeCleanAtBothSizes(page, "share dialog");
  await page.screenshot({ path: "test-results/share-dialog.png" });
  await page.keyboard.press("Escape");
  expect(loads, "no reload").toBe(0);

  // A fresh browser, no account.
  const stranger = await browser.newContext();
  const reader = await stranger.newPage();
  const rw = watch(reader);
  const res = await reader.goto(new URL(url).pathname);
  expect(res!.status()).toBe(200);
  await hydrated(reader);
  await expect(reader.getByTestId("shared-title")).toHaveText("Porto trip");
  await expect(reader.getByTestId("shared-message-assistant")).toContainText("Fake reply to: How far is Porto from Lisbon?");
  await expect(reader.locator('meta[name="robots"]')).toHaveAttribute("content", "noindex, nofollow");
  await expect(reader.getByTestId("composer")).toHaveCount(0);
  await expect(reader.getByTestId("conversation-link")).toHaveCount(0);
  await fitsAndAxeCleanAtBothSizes(reader, "shared page");
  await reader.setViewportSize({ width: 390, height: 844 });
  await reader.screenshot({ path: "test-results/shared-page-390.png", fullPage: true });
  expect(rw.errors).toEqual([]);

  // Signed in as someone else: "Continue in my account" copies it.
  await reader.getByTestId("sign-in-to-continue").click();
  await expect(reader).toHaveURL(/\/login\?next=\/s\//);
  unwatch(reader);
  await reader.close();
  const other = await stranger.newPage();
  await register(other, "continuer");
  await other.goto(new URL(url).pathname);
  await hydrated(other);
  await other.getByTestId("continue-shared").click();
  await expect(other).toHaveURL(/\/chat\/\d+$/);
  await expect(other.getByTestId("message-assistant")).toContainText("Fake reply to: How far is Porto from Lisbon?");
  await expect(other.getByTestId("composer")).toBeVisible();
  await stranger.close();

  // The owner lists and revokes it; the link is gone at once.
  await page.goto("/settings/shares");
  await hydrated(page);
  await expect(page.getByTestId("share-url")).toHaveValue(url);
  await fitsAndAxeCleanAtBothSizes(page, "shared links");
  await page.getByTestId("revoke-share").click();
  await expect(page.getByTestId("no-shares")).toBeVisible();
  const gone = await page.request.get(new URL(url).pathname);
  expect(gone.status()).toBe(404);
  expect(w.errors).toEqual([]);
});

test("branch into a new chat from a message: the new chat holds the branch, the original is unchanged", async ({ page }) => {
  const w = watch(page);
  await register(page, "forker");
  const id = await conversation(page, "First idea");
  await page.goto(`/chat/${id}`);
  await hydrated(page);
  await page.getByTestId("message-assistant").hover();
  await page.getByTestId("message-assistant").getByTestId("fork").click();
  await expect(page).not.toHaveURL(`/chat/${id}`);
  await expect(page).toHaveURL(/\/chat\/\d+$/);
  await expect(page.getByTestId("conversation-title")).toContainText("(branch)");
  await expect(page.getByTestId("message-user")).toHaveText(/First idea/);
  await expect(page.getByTestId("message-assistant")).toContainText("Fake reply to: First idea");
  const original = await (await page.request.get(`/api/chat/conversations/${id}/`)).json();
  expect(original.messages.length).toBe(2);
  expect(w.errors).toEqual([]);
});
