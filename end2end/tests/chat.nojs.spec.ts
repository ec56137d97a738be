import { expect, test } from "@playwright/test";

test("chat without JavaScript: sending posts the form and the page shows the whole reply", async ({ page }) => {
  await page.goto("/chat");
  await expect(page).toHaveURL(/\/login\?next=\/chat$/);
  await page.getByLabel("Username or email").fill("ada");
  await page.getByLabel("Password").fill("Tr4vel-Lisbon-Blue");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL("/chat");
  await page.getByTestId("composer").fill("Hello without scripts");
  await page.getByTestId("send").click();
  await expect(page).toHaveURL(/\/chat\/\d+$/);
  const reply = page.getByTestId("message-assistant").last();
  await expect(reply).toHaveAttribute("data-status", "delivered");
  await expect(reply).toContainText("Fake reply to: Hello without scripts");
  await expect(page.getByTestId("conversation-link").first()).toBeVisible();
});
