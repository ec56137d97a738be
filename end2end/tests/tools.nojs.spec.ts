import { expect, test } from "@playwright/test";
import { register, withMcpServer } from "./support";

// Tools without JavaScript: the send waits for the whole reply, and the page renders every step on the server —
// collapsed lines that open without a script (`<details>`) — and the pages found under the answer.

test("tools without JavaScript: the steps and sources are on the page, and a step opens to its details", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await register(page, "nojstools", { js: false });
  await page.getByTestId("composer").fill('Search for me [fake:call=web_search {"query": "leptos hydration"}]');
  await page.getByTestId("send").click();
  await expect(page).toHaveURL(/\/chat\/\d+$/);
  const reply = page.getByTestId("message-assistant").last();
  const step = reply.locator(".step");
  await expect(step).toHaveCount(1);
  await expect(step).toHaveAttribute("data-status", "done");
  await expect(step.locator(".step-label")).toHaveText("Searched the web for “leptos hydration”");
  await expect(reply.getByTestId("message-links")).toContainText("About leptos hydration");
  await expect(step.locator(".step-detail")).toBeHidden();
  await step.locator("summary").click();
  await expect(step.locator(".step-detail")).toContainText("Everything about leptos hydration.");
  for (const box of await page.locator(".step, .message-links, .message-body").all()) {
    const b = await box.boundingBox();
    if (b) expect(b.x + b.width, "a step fits the window").toBeLessThanOrEqual(390);
  }
  await page.screenshot({ path: "test-results/tools-nojs-390.png", fullPage: true });
});

test("tools without JavaScript: the menu opens and its choice goes with the message", async ({ page }) => {
  await register(page, "nojstoolsmenu", { js: false });
  const menu = page.getByTestId("tools-menu");
  await menu.locator("summary").click();
  await page.getByTestId("tool-read_page").uncheck();
  await page.getByTestId("tools-default").check();
  await page.getByTestId("composer").fill('Read it [fake:call=read_page {"url": "https://example.org/"}]');
  await page.getByTestId("send").click();
  await expect(page).toHaveURL(/\/chat\/\d+$/);
  const step = page.getByTestId("message-assistant").last().locator(".step");
  await expect(step).toHaveAttribute("data-status", "error");
  await expect(page.getByTestId("tools-menu").locator("summary")).toHaveAttribute("aria-label", "Tools: 1 on");
  // The default followed: a new chat starts with web search only.
  await page.goto("/chat");
  await page.getByTestId("tools-menu").locator("summary").click();
  await expect(page.getByTestId("tool-web_search")).toBeChecked();
  await expect(page.getByTestId("tool-read_page")).not.toBeChecked();
});

test("approval without JavaScript: the send shows the question, and Deny is a plain form", async ({ page }) => {
  await register(page, "nojsapprover", { js: false });
  if (!(await withMcpServer(page))) return;
  await page.goto("/chat");
  await page.getByTestId("tools-menu").locator("summary").click();
  await page.getByTestId("tool-e2e__wipe").check();
  await page.getByTestId("composer").fill('Clean up [fake:call=e2e__wipe {"path": "/srv"}]');
  await page.getByTestId("send").click();
  await expect(page).toHaveURL(/\/chat\/\d+$/);
  const step = page.getByTestId("message-assistant").last().locator(".step");
  await expect(step).toHaveAttribute("data-status", "awaiting_approval");
  await step.getByRole("button", { name: "Deny" }).click();
  await expect(page).toHaveURL(/\/chat\/\d+$/);
  await expect(page.getByTestId("message-assistant").last().locator(".step")).toHaveAttribute("data-status", "denied", { timeout: 15_000 });
});
