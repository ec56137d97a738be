import { defineConfig } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

// The test command builds the app first; this file only starts the built binary on a fresh SQLite database.
const root = path.resolve(__dirname, "..");
const targetDir = process.env.CARGO_TARGET_DIR ? path.resolve(root, process.env.CARGO_TARGET_DIR) : path.join(root, "target");
export const binary = process.env.THICODE_BIN ?? path.join(targetDir, "debug", "thicode");
const port = Number(process.env.E2E_PORT ?? 3100);
export const baseURL = `http://127.0.0.1:${port}`;
// A fake of the Mistral API (the same binary, `thicode fake-mistral`) so chat replies are real HTTP streams.
const fakePort = Number(process.env.E2E_FAKE_PORT ?? 3101);
// An MCP server on PyPI's official SDK (tests/mcp/server.py), when scripts/test installed it (`TEST_MCP_PYTHON`).
export const mcpPort = Number(process.env.E2E_MCP_PORT ?? 3102);

// This file is evaluated by the runner and again by each worker; only the runner (first evaluation) makes the
// database and its test user, and the workers inherit the folder through the environment.
if (!process.env.THICODE_E2E_DATA) {
  process.env.THICODE_E2E_DATA = mkdtempSync(path.join(tmpdir(), "thicode-e2e-"));
  execFileSync(binary, ["createsuperuser", "--noinput", "--username", "ada", "--email", "ada@example.com"], {
    env: {
      PATH: process.env.PATH,
      THICODE_CONFIG: path.join(root, "Leptos.toml"),
      DATABASE_URL: `sqlite://${process.env.THICODE_E2E_DATA}/e2e.db`,
      THICODE_SUPERUSER_PASSWORD: "Tr4vel-Lisbon-Blue",
      RUST_LOG: "warn",
    },
    stdio: "ignore",
  });
}
const dataDir = process.env.THICODE_E2E_DATA;

/** The environment of a ThiCode server on `port` sharing the test database and the fake provider (tests start a
 * second instance with it). */
export function serverEnv(serverPort: number): Record<string, string> {
  return {
    THICODE_CONFIG: path.join(root, "Leptos.toml"),
    LEPTOS_SITE_ADDR: `127.0.0.1:${serverPort}`,
    LEPTOS_SITE_ROOT: path.join(root, "target", "site"),
    DATABASE_URL: `sqlite://${dataDir}/e2e.db`,
    EMAIL_BACKEND: "file",
    EMAIL_FILE_PATH: path.join(dataDir, "emails"),
    FILES_DIR: path.join(dataDir, "files"),
    RUST_LOG: process.env.E2E_LOG ?? "warn",
    MISTRAL_API_KEY: "fake-key",
    MISTRAL_BASE_URL: `http://127.0.0.1:${fakePort}`,
    // The model may search the web (the fake's SearXNG) and read pages (public addresses only).
    WEB_SEARCH_BACKEND: "searxng",
    WEB_SEARCH_URL: `http://127.0.0.1:${fakePort}/_fake/searxng`,
    WEB_FETCH_ENABLED: "true",
    // Staff may add the test MCP server on this machine.
    MCP_ALLOWED_HOSTS: "127.0.0.1",
  };
}

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
  webServer: [
    ...(process.env.TEST_MCP_PYTHON
      ? [
          {
            command: `${process.env.TEST_MCP_PYTHON} ${path.join(root, "tests", "mcp", "server.py")}`,
            port: mcpPort,
            env: { PORT: String(mcpPort), PATH: process.env.PATH ?? "" },
            reuseExistingServer: false,
            timeout: 30_000,
            stdout: "ignore" as const,
            stderr: "pipe" as const,
          },
        ]
      : []),
    {
      command: `${binary} fake-mistral --addr 127.0.0.1:${fakePort} --tokens-per-second 30`,
      url: `http://127.0.0.1:${fakePort}/_fake/requests`,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: "ignore",
      stderr: "pipe",
    },
    {
    command: binary,
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "ignore",
    stderr: "pipe",
    env: serverEnv(port),
  },
  ],
});
