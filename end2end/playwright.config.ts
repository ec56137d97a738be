import { defineConfig } from "@playwright/test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

// The test command builds the app first; this file only starts the built binary on a fresh SQLite database.
const root = path.resolve(__dirname, "..");
const targetDir = process.env.CARGO_TARGET_DIR ? path.resolve(root, process.env.CARGO_TARGET_DIR) : path.join(root, "target");
const binary = process.env.THICODE_BIN ?? path.join(targetDir, "debug", "thicode");
const port = Number(process.env.E2E_PORT ?? 3100);
const dataDir = mkdtempSync(path.join(tmpdir(), "thicode-e2e-"));
export const baseURL = `http://127.0.0.1:${port}`;

const chromiumArgs = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export default defineConfig({
  testDir: "./tests",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [["list"]],
  timeout: 30_000,
  use: {
    baseURL,
    launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: chromiumArgs },
    trace: "off",
  },
  projects: [
    { name: "js-on", testMatch: /.*\.js\.spec\.ts/, use: { javaScriptEnabled: true } },
    { name: "js-off", testMatch: /.*\.nojs\.spec\.ts/, use: { javaScriptEnabled: false } },
  ],
  webServer: {
    command: binary,
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "ignore",
    stderr: "pipe",
    env: {
      THICODE_CONFIG: path.join(root, "Leptos.toml"),
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: path.join(root, "target", "site"),
      DATABASE_URL: `sqlite://${dataDir}/e2e.db`,
      EMAIL_BACKEND: "file",
      EMAIL_FILE_PATH: path.join(dataDir, "emails"),
      RUST_LOG: "warn",
    },
  },
});
