import { expect, test } from "@playwright/test";
import { PASSWORD } from "./support";

test("admin users without JavaScript: plain forms deactivate, confirm and delete; the audit log shows it", async ({
  page,
  request,
}) => {
  const victim = `plain${Date.now()}`;
  const res = await request.post("/api/accounts/api/register/", {
    data: { username: victim, email: `${victim}@example.com`, password1: PASSWORD, password2: PASSWORD },
  });
  expect(res.status()).toBe(200);
  await page.goto(`/admin/users?search=${victim}`);
  await expect(page).toHaveURL(/\/login\?next=/);
  await page.getByLabel("Username or email").fill("ada");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(`/admin/users?search=${victim}`);
  const row = page.locator(`tr[data-user="${victim}"]`);
  await row.getByRole("button", { name: "Deactivate" }).click();
  await expect(page).toHaveURL(`/admin/users?search=${victim}&done=deactivate`);
  await expect(page.getByTestId("action-done")).toContainText("Account deactivated");
  await expect(row.getByRole("button", { name: "Activate" })).toBeVisible();
  await row.getByRole("link", { name: "Delete…" }).click();
  await expect(page).toHaveURL(new RegExp(`confirm_delete=`));
  await page.getByRole("button", { name: "Delete the account" }).click();
  await expect(page.getByTestId("action-done")).toContainText("Account deleted");
  await expect(page.getByTestId("no-users")).toBeVisible();
  await page.getByRole("link", { name: "Audit log" }).click();
  await expect(page.getByTestId("audit").locator('tr[data-action="user.delete"]').first()).toContainText(victim);
});

test("admin limits and usage without JavaScript: the defaults save, an account's page, the usage chart and CSV", async ({
  page,
}) => {
  await page.goto("/admin/settings");
  await expect(page).toHaveURL(/\/login\?next=/);
  await page.getByLabel("Username or email").fill("ada");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL("/admin/settings");
  await page.getByLabel("Tokens per month").fill("-1");
  await page.getByRole("button", { name: "Save limits" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Enter 0 (unlimited) or more." })).toBeVisible();
  await page.getByLabel("Tokens per month").fill("0");
  await page.getByRole("button", { name: "Save limits" }).click();
  await expect(page).toHaveURL("/admin/settings?saved=1");
  await expect(page.getByRole("status")).toHaveText("Saved.");

  await page.goto("/admin/users/1");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("ada");
  await expect(page.getByTestId("user-usage")).toContainText("replies today");

  await page.goto("/admin/usage");
  await expect(page.getByTestId("usage-chart")).toBeVisible();
  await expect(page.getByTestId("usage-table").locator("tbody tr")).toHaveCount(30);
  await page.getByLabel("Group by").selectOption("model");
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(/group_by=model/);
  await expect(page.getByTestId("usage-chart")).toHaveCount(0);
  const csv = await page.request.get("/api/admin/usage/?format=csv");
  expect(csv.status()).toBe(200);
  expect(await csv.text()).toMatch(/^day,messages,prompt_tokens,completion_tokens,errors,median_ttft_ms,tool_calls\r\n/);
});

test("admin tools without JavaScript: a server is added, its tools chosen and it is deleted with plain forms", async ({
  page,
}) => {
  if (!process.env.TEST_MCP_PYTHON) {
    expect(process.env.THICODE_REQUIRE_MCP, "scripts/test installs the MCP test server").toBeUndefined();
    return;
  }
  const { mcpPort } = await import("../playwright.config");
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto("/admin/tools");
  await page.getByLabel("Username or email").fill("ada");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL("/admin/tools");
  const form = page.getByTestId("add-server");
  await form.getByLabel("Name").fill("plaincalc");
  await form.getByLabel("Address (streamable HTTP)").fill(`http://127.0.0.1:${mcpPort}/mcp`);
  await form.getByLabel("Headers").fill("bad header line");
  await form.getByRole("button", { name: "Add the server" }).click();
  await expect(form).toContainText("Write each header as “Name: value”");
  await expect(form.getByLabel("Name")).toHaveValue("plaincalc");
  await form.getByRole("button", { name: "Add the server" }).click();
  await expect(page).toHaveURL("/admin/tools?done=added");
  const card = page.locator('article[data-server="plaincalc"]');
  await card.getByLabel("Offer add").uncheck();
  await card.getByRole("button", { name: "Save" }).click();
  await expect(page).toHaveURL("/admin/tools?done=saved");
  await expect(card.getByLabel("Offer add")).not.toBeChecked();
  const [scrollWidth, innerWidth] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  expect(scrollWidth, "wider than the phone").toBeLessThanOrEqual(innerWidth);
  await card.getByRole("link", { name: "Delete…" }).click();
  await expect(page).toHaveURL(/confirm_delete=/);
  await page.getByRole("button", { name: "Delete the server" }).click();
  await expect(page).toHaveURL("/admin/tools?done=delete");
  await expect(card).toHaveCount(0);
});
