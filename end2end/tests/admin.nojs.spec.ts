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
