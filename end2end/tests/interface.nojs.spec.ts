import { expect, test, type Page } from "@playwright/test";
import { register } from "./support";

// The chat interface without JavaScript (issue #13): the drawer, the dialogs, the menus, the model picker, the
// suggestions, renaming and editing all work as links and form posts.

/** Sends from a suggestion and waits for the finished reply (a form post waits for it). */
async function start(page: Page): Promise<string> {
  await page.getByTestId("suggestion").first().click();
  await expect(page).toHaveURL(/\/chat\?prompt=/);
  await expect(page.getByTestId("composer")).not.toHaveValue("");
  await page.getByTestId("send").click();
  await expect(page).toHaveURL(/\/chat\/\d+$/, { timeout: 20_000 });
  await expect(page.getByTestId("message-assistant").last()).toHaveAttribute("data-status", "delivered");
  return new URL(page.url()).pathname;
}

test("without JavaScript: suggestion, rename, settings, model, edit, pin and delete work as links and forms", async ({
  page,
}) => {
  test.setTimeout(90_000);
  await register(page, `nojsui${Date.now()}`, { js: false });
  await expect(page.getByTestId("welcome")).toBeVisible();
  const path = await start(page);

  // Rename: the title links to its dialog.
  await page.getByTestId("conversation-title").getByRole("link").click();
  await expect(page).toHaveURL(`${path}?dialog=rename`);
  await page.getByTestId("rename-dialog").getByLabel("Title").fill("Renamed without scripts");
  await page.getByTestId("rename-dialog").getByRole("button", { name: "Save" }).click();
  await expect(page).toHaveURL(path);
  await expect(page.getByTestId("conversation-title")).toHaveText("Renamed without scripts");
  await expect(page.getByTestId("rename-dialog")).toHaveCount(0);

  // Settings: the gear links to the dialog; saving comes back without it.
  await page.getByTestId("open-settings").click();
  await expect(page.getByTestId("settings-dialog")).toBeVisible();
  await page.getByLabel("System prompt").fill("Be brief.");
  await page.getByTestId("save-settings").click();
  await expect(page).toHaveURL(path);
  await expect(page.getByTestId("settings-dialog")).toBeHidden();
  await page.goto(`${path}?dialog=settings`);
  await expect(page.getByLabel("System prompt")).toHaveValue("Be brief.");
  await page.getByTestId("settings-dialog").getByRole("link", { name: "Cancel" }).click();
  await expect(page).toHaveURL(path);

  // The model picker has an Apply button.
  const picker = page.getByTestId("model-picker");
  const options = await picker.locator("option").allTextContents();
  expect(options.length).toBeGreaterThan(1);
  const other = await picker.locator("option").nth(1).getAttribute("value");
  await picker.selectOption(other!);
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(path);
  await expect(page.getByTestId("model-picker")).toHaveValue(other!);

  // Edit: the link opens the form in place.
  await page.getByTestId("message-user").last().getByTestId("edit").click();
  await page.getByLabel("Edit your message").fill("[fake:tps=400] edited without scripts");
  await page.getByRole("button", { name: "Save and send" }).click();
  await expect(page).toHaveURL(path, { timeout: 20_000 });
  await expect(page.getByTestId("message-user").last().getByTestId("branch-position")).toHaveText("2/2");

  // The sidebar's menu: pin, then delete with its confirmation.
  const item = page.getByTestId("conversation-item").first();
  await item.locator("summary").click();
  await item.getByTestId("menu-pin").click();
  await expect(page.locator(".sidebar h2.group").first()).toHaveText("Pinned");
  await page.getByTestId("conversation-item").first().locator("summary").click();
  await page.getByTestId("conversation-item").first().getByTestId("menu-delete").click();
  await expect(page.getByTestId("delete-dialog")).toBeVisible();
  await page.getByTestId("confirm-delete").click();
  await expect(page).toHaveURL("/chat");
  await expect(page.getByTestId("sidebar-empty")).toBeVisible();
});

test("without JavaScript the phone's drawer opens and closes", async ({ page }) => {
  await register(page, `nojsdrawer${Date.now()}`, { js: false });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto("/chat");
  const sidebar = page.locator("#sidebar");
  await expect(sidebar).toBeHidden();
  await page.getByTestId("drawer-button").click();
  await expect(sidebar).toBeVisible();
  await expect(page.getByTestId("new-chat")).toBeVisible();
  await page.locator(".drawer-backdrop").click({ position: { x: 370, y: 400 } });
  await expect(sidebar).toBeHidden();
  const [scrollWidth, innerWidth] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
});
