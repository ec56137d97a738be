import { expect, test, type Page } from "@playwright/test";
import { fitsAndAxeClean, hydrated, register, settle, watch, withMcpServer } from "./support";

// Tools with JavaScript: the model searches the web (the fake's SearXNG) and reads a page; each step appears in the
// reply as it happens — a spinner while it runs, its outcome after — collapsed into one line that opens to the
// arguments and the result, and the pages found are listed under the answer. At phone and desktop widths, axe-clean,
// without a console error or a reload.

/** Nothing wider than the window, axe-clean (serious and critical). */
async function looksRight(page: Page, label: string) {
  // The conversation scrolls inside its own box: each step and the sources must fit it too.
  const width = page.viewportSize()!.width;
  for (const box of await page.locator(".step, .message-links, .message-body").all()) {
    const b = await box.boundingBox();
    if (b) expect(b.x + b.width, `${label}: a step fits the window`).toBeLessThanOrEqual(width);
  }
  await fitsAndAxeClean(page, label);
}

for (const size of [
  { width: 390, height: 844 },
  { width: 1280, height: 800 },
]) {
  test(`tools at ${size.width}px: each step shows live, opens to its details, and the sources follow the answer`, async ({ page }) => {
    await page.setViewportSize(size);
    const w = watch(page);
    await register(page, `tools${size.width}`);
    await hydrated(page);
    // Set once: a reload or a full navigation would lose it.
    await page.evaluate(() => ((window as unknown as { kept: number }).kept = 42));
    await page
      .getByTestId("composer")
      .fill('What changed in the last Rust edition, explained at length? [fake:call=web_search {"query": "slow:2500 rust edition changes"}]');
    await page.getByTestId("send").click();
    await expect(page).toHaveURL(/\/chat\/\d+$/);

    // While the search runs: one line, a spinner, what it does.
    const reply = page.getByTestId("message-assistant").last();
    const step = reply.locator(".step").first();
    await expect(step).toHaveAttribute("data-status", "running");
    await expect(step.locator(".step-label")).toHaveText("Searching the web for “slow:2500 rust edition changes”");
    await expect(step.locator(".step-spinner")).toBeVisible();
    await looksRight(page, `running step at ${size.width}px`);
    await page.screenshot({ path: `test-results/tools-running-${size.width}.png` });

    // Done: its outcome, the answer from the results, and the sources under it.
    await expect(step).toHaveAttribute("data-status", "done", { timeout: 15_000 });
    await expect(step.locator(".step-label")).toHaveText("Searched the web for “slow:2500 rust edition changes”");
    await expect(reply.getByTestId("message-links")).toContainText("About slow:2500 rust edition changes", { timeout: 15_000 });
    await expect(reply.locator(".message-body")).toContainText("Fake reply from tools");
    await expect(reply.getByTestId("message-links").getByRole("link").first()).toHaveAttribute(
      "href",
      "https://example.org/slow-2500-rust-edition-changes",
    );
    // Collapsed until opened; opened, the arguments and the results.
    const details = step.locator(".step-detail");
    await expect(details).toBeHidden();
    await step.locator("summary").click();
    await expect(details).toBeVisible();
    await expect(details).toContainText('"query": "slow:2500 rust edition changes"');
    await expect(details).toContainText("Results: 2");
    await looksRight(page, `finished step at ${size.width}px`);
    await page.screenshot({ path: `test-results/tools-done-${size.width}.png`, fullPage: true });

    // A tool that fails: said on its line and in its details; the reply goes on.
    await page.getByTestId("composer").fill('Read this [fake:call=read_page {"url": "http://127.0.0.1:9/secret"}]');
    await page.getByTestId("send").click();
    const failed = page.getByTestId("message-assistant").last().locator(".step").first();
    await expect(failed).toHaveAttribute("data-status", "error", { timeout: 15_000 });
    await expect(failed.locator(".step-label")).toHaveText("Read 127.0.0.1");
    await expect(failed.locator(".step-outcome")).toHaveText("failed");
    // Sending brought the view to the newest messages, though the reader had scrolled up to the first step.
    await expect(page.getByTestId("jump-latest")).toBeHidden();
    await failed.locator("summary").click();
    await expect(failed.locator(".step-error")).toContainText("private address");
    // The reply goes on: the model was given the error as delimited data (the stored text quotes it), and the page
    // shows that text as sanitised Markdown (the delimiting tag is not HTML anyone may write into the page).
    await expect(page.getByTestId("message-assistant").last().locator(".message-body")).toContainText(
      "Fake reply from tools: 127.0.0.1 is a private address",
      { timeout: 15_000 },
    );
    const conversationId = new URL(page.url()).pathname.split("/").pop();
    await settle(page, Number(conversationId));
    const stored = await (await page.request.get(`/api/chat/conversations/${conversationId}/`)).json();
    const last = stored.messages[stored.messages.length - 1];
    expect(last.content).toContain('<tool-error tool="read_page">');
    await expect(page.getByTestId("message-assistant").last().locator(".message-body tool-error")).toHaveCount(0);
    // Opening the step may scroll the view up: the jump button, above the composer, covers nothing (axe) and takes
    // the reader back to the newest messages.
    await looksRight(page, `failed step at ${size.width}px`);
    const jump = page.getByTestId("jump-latest");
    if (await jump.isVisible()) await jump.click();
    await expect(jump).toBeHidden();

    // After a reload, every step is there as it ended.
    expect(await page.evaluate(() => (window as unknown as { kept?: number }).kept)).toBe(42);
    await page.reload();
    await hydrated(page);
    await expect(page.locator(".step")).toHaveCount(2);
    await expect(page.locator('.step[data-status="done"] .step-label')).toHaveText("Searched the web for “slow:2500 rust edition changes”");
    expect(w.errors).toEqual([]);
  });
}

test("the tools menu: opens above the composer, chooses this conversation's tools, and keeps the focus in place", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  const w = watch(page);
  await register(page, "toolsmenu");
  await hydrated(page);
  const menu = page.getByTestId("tools-menu");
  await expect(menu.locator("summary")).toHaveAttribute("aria-label", "Tools: 2 on");
  await menu.locator("summary").click();
  await expect(page.getByTestId("tool-web_search")).toBeChecked();
  await expect(page.getByText("Finds pages on the web; the answer cites them.")).toBeVisible();
  await looksRight(page, "tools menu open at 390px");
  const panel = await menu.locator(".tools-panel").boundingBox();
  expect(panel!.x).toBeGreaterThanOrEqual(0);
  expect(panel!.x + panel!.width).toBeLessThanOrEqual(390);
  await page.screenshot({ path: "test-results/tools-menu-390.png" });
  // Web search off for this conversation: the model is not offered it, and a call of it is refused.
  await page.getByTestId("tool-web_search").uncheck();
  await page.getByTestId("composer").fill('Search [fake:call=web_search {"query": "nothing"}]');
  await page.getByTestId("send").click();
  await expect(page).toHaveURL(/\/chat\/\d+$/);
  // The focus is back in the message box, ready for the next message.
  await expect(page.getByTestId("composer")).toBeFocused();
  const step = page.getByTestId("message-assistant").last().locator(".step");
  await expect(step).toHaveAttribute("data-status", "error", { timeout: 15_000 });
  await step.locator("summary").click();
  await expect(step.locator(".step-error")).toHaveText("there is no tool named web_search");
  await expect(page.getByTestId("tools-menu").locator("summary")).toHaveAttribute("aria-label", "Tools: 1 on");
  expect(w.errors).toEqual([]);
});

test("approval: a call of a tool that asks first waits for Allow, then runs, without a reload", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  const w = watch(page);
  await register(page, "approver");
  if (!(await withMcpServer(page))) return;
  await page.reload();
  await hydrated(page);
  await page.evaluate(() => ((window as unknown as { kept: number }).kept = 7));
  await page.getByTestId("tools-menu").locator("summary").click();
  await page.getByTestId("tool-e2e__wipe").check();
  await page.getByTestId("composer").fill('Clean up [fake:call=e2e__wipe {"path": "/tmp/e2e"}]');
  await page.getByTestId("send").click();
  await expect(page).toHaveURL(/\/chat\/\d+$/);
  const step = page.getByTestId("message-assistant").last().locator(".step");
  await expect(step).toHaveAttribute("data-status", "awaiting_approval", { timeout: 15_000 });
  const decision = step.getByTestId("step-decision");
  await expect(decision).toContainText("Run e2e__wipe with these arguments?");
  await expect(step.locator(".step-detail")).toContainText('"path": "/tmp/e2e"');
  await looksRight(page, "a call waiting for approval at 390px");
  await page.screenshot({ path: "test-results/tools-approval-390.png" });
  await decision.getByRole("button", { name: "Allow" }).click();
  await expect(step).toHaveAttribute("data-status", "done", { timeout: 15_000 });
  await expect(page.getByTestId("message-assistant").last().locator(".message-body")).toContainText("wiped /tmp/e2e", { timeout: 15_000 });
  expect(await page.evaluate(() => (window as unknown as { kept?: number }).kept)).toBe(7);
  expect(w.errors).toEqual([]);
});
