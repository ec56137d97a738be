import { expect, test } from "@playwright/test";

test("API tokens: created in settings, shown once, used by a script, revoked", async ({ page, playwright, baseURL }) => {
  const errors: string[] = [];
  page.on("console", (m) => {
    // The blank name below is refused with a 400 on purpose; the browser logs that answer.
    const expected400 = m.text().includes("status of 400") && (m.location().url ?? "").includes("/_server/");
    if (m.type() === "error" && !expected400) errors.push(m.text());
  });
  await page.goto("/settings/tokens");
  await expect(page).toHaveURL(/\/login\?next=\/settings\/tokens$/);
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.getByLabel("Username or email").fill("ada");
  await page.getByLabel("Password").fill("Tr4vel-Lisbon-Blue");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL("/settings/tokens");
  await page.waitForSelector('body[data-hydrated="true"]');

  await page.getByRole("button", { name: "Create token" }).click();
  await expect(page.locator("#name-errors")).toContainText("This field may not be blank.");
  await page.getByLabel("Name (what uses it)").fill("e2e script");
  await page.getByLabel("Expires after").selectOption("90");
  await page.getByRole("button", { name: "Create token" }).click();
  const key = (await page.getByTestId("new-key").textContent()) ?? "";
  expect(key).toMatch(/^thc_[0-9a-f]{64}$/);
  const row = page.locator("table.tokens tr", { hasText: "e2e script" });
  await expect(row).toContainText(key.slice(0, 12));

  // A script uses it: no cookie, no CSRF token.
  const api = await playwright.request.newContext({ baseURL });
  const me = await api.get("/api/accounts/current-user/", { headers: { Authorization: `Token ${key}` } });
  expect(me.status()).toBe(200);
  expect((await me.json()).username).toBe("ada");

  // Shown once: a reload lists the token without its key.
  await page.reload();
  await expect(page.getByTestId("new-key")).toHaveCount(0);
  await expect(row).toContainText("e2e script");
  await row.getByRole("button", { name: "Revoke" }).click();
  await expect(page.locator("table.tokens tr", { hasText: "e2e script" })).toHaveCount(0);
  const after = await api.get("/api/accounts/current-user/", { headers: { Authorization: `Token ${key}` } });
  expect(after.status()).toBe(401);
  await api.dispose();

  // The API reference is a page of the server, reached by a full load (not the app's router).
  await page.getByRole("link", { name: "REST API" }).click();
  await expect(page).toHaveURL("/api/docs/");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("ThiCode API");
  await expect(page.locator("h3").filter({ hasText: /^POST\s*\/api\/accounts\/tokens\/$/ })).toHaveCount(1);
  expect(errors).toEqual([]);
});
