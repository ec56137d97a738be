import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { PASSWORD, fitsAndAxeCleanAtBothSizes, hydrated, register, watch } from "./support";

test("admin: the login page first, then the overview for staff; the client router guards it too", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  await page.goto("/admin");
  await expect(page).toHaveURL("/login?next=/admin");
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.getByLabel("Username or email").fill("ada");
  await page.getByLabel("Password").fill("Tr4vel-Lisbon-Blue");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL("/admin");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Administration");
  await expect(page.getByTestId("admin-stats")).toContainText("accounts");
  await expect(page.getByRole("cell", { name: "ada@example.com" })).toBeVisible();

  // Home, then back through the menu's link (client-side navigation).
  await page.getByRole("link", { name: "ThiCode" }).click();
  await expect(page).toHaveURL("/");
  await page.getByTestId("admin-link").click();
  await expect(page).toHaveURL("/admin");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Administration");

  // Logged out without a reload, going back to the admin page lands on the login page.
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page.getByRole("banner").getByRole("link", { name: "Log in" })).toBeVisible();
  await expect(page).toHaveURL("/");
  await page.goBack();
  await expect(page).toHaveURL("/login?next=/admin");
  await expect(page.getByRole("cell", { name: "ada@example.com" })).toHaveCount(0);
  expect(errors).toEqual([]);
});

/** An account made through the REST API from outside the page (its own cookies); returns its username. */
async function account(request: APIRequestContext, prefix: string): Promise<string> {
  const username = `${prefix}${Date.now()}`;
  const res = await request.post("/api/accounts/api/register/", {
    data: { username, email: `${username}@example.com`, password1: PASSWORD, password2: PASSWORD },
  });
  expect(res.status(), await res.text()).toBe(200);
  return username;
}

async function loginAsAda(page: Page, next: string) {
  await page.goto(`/login?next=${encodeURIComponent(next)}`);
  await hydrated(page);
  await page.getByLabel("Username or email").fill("ada");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(next);
}

/** The page fits the window, is axe-clean (serious and critical) and logged no error. */
async function looksRight(page: Page, label: string, w: { errors: string[] }) {
  await fitsAndAxeCleanAtBothSizes(page, label);
  expect(w.errors, `${label}: console errors`).toEqual([]);
}

test("admin users: search, deactivate, staff, reset mail and delete without a reload; the audit log shows it all", async ({
  page,
  browser,
  request,
}) => {
  test.setTimeout(90_000);
  const victim = await account(request, "vic");
  // The victim is logged in elsewhere.
  const other = await browser.newContext();
  const theirs = await other.newPage();
  await theirs.goto("/login");
  await hydrated(theirs);
  await theirs.getByLabel("Username or email").fill(victim);
  await theirs.getByLabel("Password").fill(PASSWORD);
  await theirs.getByRole("button", { name: "Log in" }).click();
  await expect(theirs).toHaveURL("/chat");

  const w = watch(page);
  await loginAsAda(page, "/admin/users");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Users");
  await looksRight(page, "users list", w);
  // Ada's own row offers no action on herself.
  await expect(page.locator('tr[data-user="ada"] button')).toHaveCount(0);

  await page.getByLabel("Search users").fill(victim);
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page).toHaveURL(new RegExp(`search=${victim}`));
  await expect(page.getByTestId("user-count")).toHaveText("1 accounts");
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 1));
  const row = page.locator(`tr[data-user="${victim}"]`);

  await row.getByRole("button", { name: "Deactivate" }).click();
  await expect(page.getByTestId("action-done")).toHaveText("Account deactivated: its sessions and tokens have ended.");
  await expect(row.getByRole("button", { name: "Activate" })).toBeVisible();
  await expect(page).toHaveURL(new RegExp(`search=${victim}.*done=deactivate`));
  // Their session ended at once.
  await theirs.goto("/settings");
  await expect(theirs).toHaveURL(/\/login\?next=\/settings/);
  await other.close();

  await row.getByRole("button", { name: "Activate" }).click();
  await expect(page.getByTestId("action-done")).toHaveText("Account activated.");
  await row.getByRole("button", { name: "Make staff" }).click();
  await expect(page.getByTestId("action-done")).toHaveText("Staff status granted.");
  await row.getByRole("button", { name: "Remove staff" }).click();
  await expect(page.getByTestId("action-done")).toHaveText("Staff status removed.");
  await row.getByRole("button", { name: "Send reset email" }).click();
  await expect(page.getByTestId("action-done")).toHaveText("A password reset email is on its way.");

  // Delete asks first, with the focus on the button that does it; Cancel keeps the account.
  // A modal dialog, like the chat's: the page behind is inert, Escape and Cancel close it and change nothing.
  await row.getByRole("link", { name: "Delete…" }).click();
  const confirm = page.getByTestId("delete-user-dialog");
  await expect(confirm).toBeVisible();
  await expect(confirm).toContainText(`Delete ${victim}?`);
  await expect(confirm.getByRole("button", { name: "Delete the account" })).toBeFocused();
  await expect(page).not.toHaveURL(/confirm_delete/);
  await looksRight(page, "delete confirmation", w);
  await page.keyboard.press("Escape");
  await expect(confirm).toBeHidden();
  await row.getByRole("link", { name: "Delete…" }).click();
  await confirm.getByRole("link", { name: "Cancel" }).click();
  await expect(confirm).toBeHidden();
  await expect(row).toBeVisible();
  await row.getByRole("link", { name: "Delete…" }).click();
  await confirm.getByRole("button", { name: "Delete the account" }).click();
  await expect(page.getByTestId("action-done")).toHaveText("Account deleted, with its conversations.");
  await expect(page.getByTestId("no-users")).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker), "no reload").toBe(1);

  // Sorting by a column header, then the audit log.
  await page.getByRole("link", { name: "Overview" }).click();
  await page.getByRole("link", { name: "Users" }).click();
  await page.getByRole("link", { name: "Tokens this month" }).click();
  await expect(page.locator('th[aria-sort="descending"]')).toHaveText(/Tokens this month/);
  await page.getByRole("link", { name: "Audit log" }).click();
  await expect(page).toHaveURL("/admin/audit");
  const log = page.getByTestId("audit");
  for (const action of ["user.delete", "user.send_reset", "user.revoke_staff", "user.grant_staff", "user.activate", "user.deactivate"]) {
    await expect(log.locator(`tr[data-action="${action}"]`).filter({ hasText: victim }).first()).toBeVisible();
  }
  await expect(log.locator("tr").nth(1)).toContainText("deleted an account");
  await looksRight(page, "audit log", w);
  expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker), "no reload").toBe(1);
});

test("admin tools: staff add an MCP server, choose its tools, list them again and delete it, without a reload", async ({
  page,
}) => {
  test.setTimeout(90_000);
  if (!process.env.TEST_MCP_PYTHON) {
    expect(process.env.THICODE_REQUIRE_MCP, "scripts/test installs the MCP test server").toBeUndefined();
    return;
  }
  const { mcpPort } = await import("../playwright.config");
  // The browser logs the refused submission's 400; nothing else may appear.
  const w = watch(page, [/status of 400/]);
  await loginAsAda(page, "/admin/tools");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Tools");
  await expect(page.getByTestId("builtin-tools")).toContainText("Through searxng");
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 1));
  const form = page.getByTestId("add-server");

  // A mistake: the field says what is wrong, keeps what was typed, and takes no reload.
  await form.getByLabel("Name").fill("Calc!");
  await form.getByLabel("Address (streamable HTTP)").fill(`http://127.0.0.1:${mcpPort}/mcp`);
  await form.getByLabel("Headers").fill("X-Api-Key: secret-e2e-value");
  await form.getByRole("button", { name: "Add the server" }).click();
  await expect(form.getByLabel("Name")).toHaveAttribute("aria-invalid", "true");
  await expect(form).toContainText("Use 1 to 24 lowercase letters");
  await expect(form.getByLabel("Address (streamable HTTP)")).toHaveValue(`http://127.0.0.1:${mcpPort}/mcp`);
  await looksRight(page, "tools page with an error", w);

  await form.getByLabel("Name").fill("calc");
  await form.getByLabel("Headers").fill("X-Api-Key: secret-e2e-value");
  await form.getByRole("button", { name: "Add the server" }).click();
  await expect(page.getByTestId("action-done")).toHaveText("MCP server added.");
  const card = page.locator('article[data-server="calc"]');
  await expect(card.locator('tr[data-tool="add"]')).toContainText("calc__add");
  await expect(card.locator('tr[data-tool="wipe"]')).toContainText("changes things");
  await expect(card).toContainText("Stored: X-Api-Key (values hidden)");
  expect(await page.content()).not.toContain("secret-e2e-value");
  await expect(form.getByLabel("Name")).toHaveValue("");
  await looksRight(page, "tools page with a server", w);
  await page.screenshot({ path: "test-results/admin-tools-1280.png", fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: "test-results/admin-tools-390.png", fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });

  // A destructive tool asks first by default; staff stop offering `add` and let `wipe` run without asking.
  await expect(card.getByLabel("wipe asks the user first")).toBeChecked();
  await card.getByLabel("Offer add").uncheck();
  await card.getByLabel("wipe asks the user first").uncheck();
  await card.getByRole("button", { name: "Save" }).click();
  await expect(page.getByTestId("action-done")).toHaveText("Saved.");
  await expect(card.getByLabel("Offer add")).not.toBeChecked();
  await expect(card.getByLabel("wipe asks the user first")).not.toBeChecked();
  await expect(card.getByLabel("Offer wipe")).toBeChecked();

  await card.getByRole("button", { name: "List its tools again" }).click();
  await expect(page.getByTestId("action-done")).toHaveText("Its tools were listed again.");

  // Delete asks first, in a modal with the focus on the button that does it.
  await card.getByRole("link", { name: "Delete…" }).click();
  const confirm = page.getByTestId("delete-mcp-dialog");
  await expect(confirm).toContainText("Delete calc?");
  await expect(confirm.getByRole("button", { name: "Delete the server" })).toBeFocused();
  await looksRight(page, "delete confirmation", w);
  await page.keyboard.press("Escape");
  await expect(confirm).toBeHidden();
  await card.getByRole("link", { name: "Delete…" }).click();
  await confirm.getByRole("button", { name: "Delete the server" }).click();
  await expect(page.getByTestId("action-done")).toHaveText("MCP server deleted.");
  await expect(card).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker), "no reload").toBe(1);

  await page.getByRole("link", { name: "Audit log" }).click();
  const log = page.getByTestId("audit");
  for (const action of ["mcp.create", "mcp.update", "mcp.delete"]) {
    await expect(log.locator(`tr[data-action="${action}"]`).filter({ hasText: "calc" }).first()).toBeVisible();
  }
  expect(await page.content()).not.toContain("secret-e2e-value");
  expect(w.errors).toEqual([]);
});

test("admin pages: a user who is not staff gets 403 on every one, also after client-side navigation", async ({ page }) => {
  const w = watch(page, [/status of 403/]);
  await register(page, `nostaff${Date.now()}`);
  for (const path of ["/admin/users", "/admin/audit", "/admin/users?confirm_delete=1", "/admin/tools"]) {
    const res = await page.goto(path);
    expect(res?.status(), path).toBe(403);
    await hydrated(page);
    await expect(page.getByTestId("forbidden")).toBeVisible();
    await expect(page.getByTestId("users")).toHaveCount(0);
  }
  expect(w.errors).toEqual([]);
});

test("quotas: staff set a limit on the pages; the user over it is told when it resets and keeps the draft", async ({
  page,
  browser,
}) => {
  test.setTimeout(90_000);
  const w = watch(page, [/status of 429/]);
  const user = `quota${Date.now()}`;
  // The user, in their own browser, registers and sends one message.
  const theirs = await (await browser.newContext()).newPage();
  const theirWatch = watch(theirs, [/status of 429/]);
  await register(theirs, user);
  await theirs.getByTestId("composer").fill("first");
  await theirs.getByTestId("composer").press("Enter");
  await expect(theirs).toHaveURL(/\/chat\/\d+/);
  await expect(theirs.getByTestId("message-assistant").last()).toHaveAttribute("data-status", "delivered", { timeout: 20_000 });

  // Staff give that account one reply a day, on its page.
  await loginAsAda(page, `/admin/users?search=${user}`);
  await page.getByRole("link", { name: user }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(user);
  await expect(page.getByTestId("user-usage")).toContainText("1 replies today");
  await page.getByLabel("Replies per day").fill("1");
  await page.getByRole("button", { name: "Save limits" }).click();
  await expect(page.getByRole("status")).toHaveText("Saved.");
  await expect(page.getByTestId("user-usage")).toContainText("1 / 1");
  await looksRight(page, "an account's page", w);
  await page.getByRole("link", { name: "Settings" }).click();
  await expect(page).toHaveURL("/admin/settings");
  await looksRight(page, "admin settings", w);

  // The next send is refused with the time the limit resets; the words typed stay in the box.
  await theirs.getByTestId("composer").fill("second, which must not be lost");
  await theirs.getByTestId("composer").press("Enter");
  await expect(theirs.getByTestId("chat-error")).toContainText("You have used today’s 1 messages. More from");
  await expect(theirs.getByTestId("composer")).toHaveValue("second, which must not be lost");
  await theirs.goto("/settings/usage");
  await hydrated(theirs);
  await expect(theirs.getByTestId("usage")).toContainText("Replies today");
  await looksRight(theirs, "usage page", theirWatch);

  // Staff read that conversation (read-only), from the account's page.
  await page.goto("/admin/users?search=" + user);
  await hydrated(page);
  await page.getByRole("link", { name: user }).click();
  await page.getByRole("link", { name: "Conversations" }).click();
  await expect(page.getByTestId("conversations")).toBeVisible();
  await looksRight(page, "an account's conversations", w);
  await page.getByTestId("conversations").getByRole("link").first().click();
  await expect(page.getByTestId("admin-messages")).toContainText("first");
  await expect(page.getByRole("note")).toContainText("Read-only");
  await looksRight(page, "a conversation, read-only", w);
  // A link to it on another site reads nothing (and records nothing): the page asks, and its link opens it.
  const conversationUrl = page.url();
  await page.route("http://elsewhere.test/", (route) =>
    route.fulfill({ contentType: "text/html", body: `<!DOCTYPE html><title>x</title><a href="${conversationUrl}">look</a>` }),
  );
  await page.goto("http://elsewhere.test/");
  await page.getByRole("link", { name: "look" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Open this conversation?");
  await hydrated(page);
  await expect(page.getByTestId("admin-messages")).toHaveCount(0);
  await looksRight(page, "a conversation linked from another site", w);
  await page.getByRole("link", { name: "Open the conversation" }).click();
  await expect(page.getByTestId("admin-messages")).toContainText("first");
  await expect(page.getByRole("link", { name: "Open the conversation" })).toHaveCount(0);
  // And delete it, after a modal confirmation.
  await page.getByRole("link", { name: "Back to the conversations" }).click();
  await page.getByTestId("conversations").getByRole("link", { name: "Delete…" }).click();
  const dialog = page.getByTestId("delete-conversation-dialog");
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole("button", { name: "Delete the conversation" })).toBeFocused();
  await dialog.getByRole("button", { name: "Delete the conversation" }).click();
  await expect(page.getByRole("status")).toHaveText("Conversation deleted.");
  await expect(page.getByTestId("no-conversations")).toBeVisible();
  expect(w.errors).toEqual([]);
});
