import { expect, test } from "@playwright/test";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/** The reset link in the newest email the file backend wrote for `to` (written after the page has answered). */
async function resetLinkFor(to: string): Promise<string> {
  const folder = path.join(process.env.THICODE_E2E_DATA!, "emails");
  const newest = () => {
    const mails = readdirSync(folder)
      .map((name) => readFileSync(path.join(folder, name), "utf8").replace(/=\r?\n/g, ""))
      .filter((mail) => mail.includes(`To: ${to}`));
    const match = /https?:\/\/[^\s"<]+\/reset-password\/[0-9a-f]{64}/.exec(mails[mails.length - 1] ?? "");
    return match ? new URL(match[0]).pathname : null;
  };
  let link: string | null = null;
  await expect.poll(() => (link = newest()), { message: `a reset link mailed to ${to}` }).not.toBeNull();
  return link!;
}

test("forgot password → mail → reset → log in with the new password; the old link then fails", async ({ page }) => {
  await page.goto("/register");
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.getByLabel("Username").fill("hopper");
  await page.getByLabel("Email").fill("hopper@example.com");
  await page.getByLabel("Password", { exact: true }).fill("Compiler-Nanosecond-1952");
  await page.getByLabel("Confirm password").fill("Compiler-Nanosecond-1952");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByTestId("user-name")).toHaveText("hopper");
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page.getByRole("banner").getByRole("link", { name: "Log in" })).toBeVisible();

  await page.goto("/login");
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  await expect(page.getByRole("heading", { name: "Reset your password" })).toBeVisible();
  await page.getByLabel("Email").fill("hopper@example.com");
  await page.getByRole("button", { name: "Send me a link" }).click();
  await expect(page.getByRole("status")).toContainText("If an account uses that address");

  const link = await resetLinkFor("hopper@example.com");
  await page.goto(link);
  await page.getByLabel("New password", { exact: true }).fill("Debugging-Moth-1947");
  await page.getByLabel("Confirm new password").fill("Debugging-Moth-1947");
  await page.getByRole("button", { name: "Set password" }).click();
  await expect(page).toHaveURL("/login?reset=1");
  await expect(page.getByRole("status")).toContainText("Your password has been set.");

  await page.getByLabel("Username or email").fill("hopper");
  await page.getByLabel("Password").fill("Debugging-Moth-1947");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByTestId("user-name")).toHaveText("hopper");

  await page.goto(link);
  await page.getByLabel("New password", { exact: true }).fill("Another-Moth-1948");
  await page.getByLabel("Confirm new password").fill("Another-Moth-1948");
  await page.getByRole("button", { name: "Set password" }).click();
  await expect(page.getByRole("alert")).toContainText("The password reset link was invalid");
});
