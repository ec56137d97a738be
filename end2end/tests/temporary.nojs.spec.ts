import { expect, test } from "@playwright/test";
import { onDisk, register } from "./support";

// A temporary chat without JavaScript: the toggle belongs to the composer's form, the post waits for the reply.

test("without JavaScript: the toggle starts a temporary chat that is not listed and not on disk", async ({ page }) => {
  await register(page, "temper_nojs", { js: false });
  const secret = `Kilimanjaro-${Date.now()}`;
  await page.getByTestId("temporary-toggle").check();
  await page.getByTestId("composer").fill(`Quietly: ${secret}`);
  await page.getByTestId("send").click();
  await expect(page).toHaveURL(/\/chat\/-\d+$/);
  await expect(page.getByTestId("temporary-banner")).toBeVisible();
  await expect(page.getByTestId("message-assistant")).toContainText(`Fake reply to: Quietly: ${secret}`);
  await page.reload();
  await expect(page.getByTestId("message-user")).toContainText(secret);
  expect(onDisk(secret)).toEqual([]);
  await page.goto("/chat");
  await expect(page.getByText(secret)).toHaveCount(0);
  await page.goBack();
  await page.getByTestId("discard-temporary").click();
  await expect(page).toHaveURL("/chat");
});
