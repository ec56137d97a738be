// Starts the release server on a fresh SQLite database and measures the time from spawn to the first 200 of
// /healthz (migrations included), then the resident memory after two idle seconds. Leaves the server running and
// prints {pid, startupMs, idleRssKb} as JSON.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";

const [binary, port, work] = process.argv.slice(2);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");

function get(url) {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
    });
    req.on("error", () => resolve(0));
  });
}

const started = process.hrtime.bigint();
const child = spawn(binary, ["serve"], {
  env: {
    PATH: process.env.PATH,
    THICODE_CONFIG: path.join(root, "Leptos.toml"),
    LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
    LEPTOS_SITE_ROOT: path.join(root, "target", "site"),
    DATABASE_URL: `sqlite://${work}/bench.db`,
    RUST_LOG: "warn",
  },
  stdio: "ignore",
  detached: true,
});
child.unref();

let status = 0;
while (status !== 200) {
  status = await get(`http://127.0.0.1:${port}/healthz`);
  if (Number(process.hrtime.bigint() - started) > 30e9) throw new Error("server did not start within 30 s");
}
const startupMs = Number(process.hrtime.bigint() - started) / 1e6;
await get(`http://127.0.0.1:${port}/`); // warm the renderer once, as any real first visitor would
await new Promise((r) => setTimeout(r, 2000));
const idleRssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))[1]);
console.log(JSON.stringify({ pid: child.pid, startupMs, idleRssKb }));
