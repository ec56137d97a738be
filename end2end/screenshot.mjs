// Refreshes docs/screenshot.png and docs/screenshot-phone.png (390 px wide): a chat with a streamed reply, rendered
// by the built app against the fake Mistral server.  node end2end/screenshot.mjs   (after `cargo leptos build`; uses Debian's Chromium like the tests)
import { chromium } from "@playwright/test";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const binary = path.join(process.env.CARGO_TARGET_DIR ?? path.join(root, "target"), "debug", "thicode");
const data = mkdtempSync(path.join(tmpdir(), "thicode-shot-"));
const env = {
  PATH: process.env.PATH,
  THICODE_CONFIG: path.join(root, "Leptos.toml"),
  LEPTOS_SITE_ADDR: "127.0.0.1:3300",
  LEPTOS_SITE_ROOT: path.join(root, "target", "site"),
  DATABASE_URL: `sqlite://${data}/shot.db`,
  MISTRAL_API_KEY: "fake-key",
  MISTRAL_BASE_URL: "http://127.0.0.1:3301",
  RUST_LOG: "warn",
};
execFileSync(binary, ["createsuperuser", "--noinput", "--username", "ada", "--email", "ada@example.com"], {
  env: { ...env, THICODE_SUPERUSER_PASSWORD: "Tr4vel-Lisbon-Blue" },
});
const fake = spawn(binary, ["fake-mistral", "--addr", "127.0.0.1:3301", "--tokens-per-second", "200"]);
const server = spawn(binary, ["serve"], { env });
await new Promise((r) => setTimeout(r, 1500));
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  await page.goto("http://127.0.0.1:3300/login?next=/chat");
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.getByLabel("Username or email").fill("ada");
  await page.getByLabel("Password").fill("Tr4vel-Lisbon-Blue");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL("**/chat");
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.getByTestId("composer").fill("How do I read a file in Rust?\n```rust\nlet text = std::fs::read_to_string(\"notes.txt\")?;\n```");
  await page.getByTestId("composer").press("Enter");
  await page.waitForSelector('[data-testid="message-assistant"][data-status="delivered"]');
  await page.waitForTimeout(500);
  await page.screenshot({ path: path.join(root, "docs", "screenshot.png") });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(root, "docs", "screenshot-phone.png") });
} finally {
  await browser.close();
  server.kill();
  fake.kill();
}
