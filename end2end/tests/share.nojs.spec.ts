import { expect, test } from "@playwright/test";
import { conversation, register } from "./support";

// Sharing without JavaScript: the dialog is a page state (`?dialog=share`), its forms post and come back.

test("without JavaScript: make a link, read it, revoke it from the settings", async ({ page, browser }) => {
  await register(page, "sharer_nojs", { js: false });
  const id = await conversation(page, "Shared without scripts");
  await page.goto(`/chat/${id}?dialog=share`);
  await page.getByTestId("create-share").click();
  await expect(page).toHaveURL(`/chat/${id}?dialog=share`);
  const url = await page.getByTestId("share-url").inputValue();
  expect(url).toMatch(/\/s\/[0-9a-f]{64}$/);

  const stranger = await browser.newContext({ javaScriptEnabled: false });
  const reader = await stranger.newPage();
  await reader.goto(new URL(url).pathname);
  await expect(reader.getByTestId("shared-message-assistant")).toContainText("Fake reply to: Shared without scripts");
  await stranger.close();

  await page.goto("/settings/shares");
  await page.getByTestId("revoke-share").click();
  await expect(page).toHaveURL("/settings/shares");
  await expect(page.getByTestId("no-shares")).toBeVisible();
  expect((await page.request.get(new URL(url).pathname)).status()).toBe(404);
});

test("without JavaScript: branch into a new chat posts and opens it", async ({ page }) => {
  await register(page, "forker_nojs", { js: false });
  const id = await conversation(page, "Idea without scripts");
  await page.goto(`/chat/${id}`);
  await page.getByTestId("message-assistant").getByTestId("fork").click();
  await expect(page).toHaveURL(/\/chat\/\d+$/);
  expect(page.url()).not.toMatch(new RegExp(`/chat/${id}$`));
  await expect(page.getByTestId("conversation-title")).toContainText("(branch)");
});
