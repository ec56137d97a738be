// Turns the measurements of bench/run into a Markdown report and checks the budgets (exit 1 when one is exceeded).
import { readFileSync } from "node:fs";
import os from "node:os";
import { firstLoad, table } from "./first-load.mjs";

const [startupFile, pkgDir, homeRps, homeP50, homeP99, healthRps, healthP50, healthP99, rssAfterKb, duration, conns,
  loginsFile, duringRps, duringP50, duringP99, pagesFile] = process.argv.slice(2);
const logins = JSON.parse(readFileSync(loginsFile, "utf8"));
const pages = JSON.parse(readFileSync(pagesFile, "utf8"));
// wrk prints latencies with units (us, ms, s); the budget is in milliseconds.
const toMs = (text) => {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text ?? "");
  return m ? Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]] : Infinity;
};
const { startupMs, idleRssKb } = JSON.parse(readFileSync(startupFile, "utf8"));

// The client is split by page: what matters is what the first visit to a page downloads (home and /chat).
const client = firstLoad(pkgDir);
const firstVisit = (page) => client.pages.find((p) => p.page === page)?.total ?? client.shell;
const kb = (n) => (n / 1024).toFixed(1);

const budgets = [
  ["first visit to / (WASM + JS, gzip)", firstVisit("home").gzip / 1024, 250, "KB"],
  ["first visit to /chat (WASM + JS, gzip)", firstVisit("chat").gzip / 1024, 250, "KB"],
  ["idle RSS", idleRssKb / 1024, 30, "MB"],
  ["start (migrations included) to first 200", startupMs, 300, "ms"],
  ["/healthz p99 during 50 concurrent logins", toMs(duringP99), 20, "ms"],
  ...Object.entries(pages.navigation).map(([name, n]) => [
    `navigation to a page whose code was never fetched (${name})`, n.notLoaded.shownMs, 150, "ms",
  ]),
];

const cpu = (os.cpus()[0]?.model ?? "unknown CPU").trim();
const lines = [
  `Machine: ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}; ` +
    `load from wrk on the same machine (2 threads, ${conns} connections, ${duration} s per route).`,
  "",
  "| measure | result | budget |",
  "|---|---|---|",
  `| start (migrations included) to first 200 | ${startupMs.toFixed(0)} ms | ≤ 300 ms |`,
  `| idle RSS (after one page render) | ${(idleRssKb / 1024).toFixed(1)} MB | ≤ 30 MB |`,
  `| RSS after the load runs | ${(Number(rssAfterKb) / 1024).toFixed(1)} MB | – |`,
  `| first visit to \`/\`: WASM + JS | ${kb(firstVisit("home").raw)} KB raw, ${kb(firstVisit("home").gzip)} KB gzip, ${kb(firstVisit("home").brotli)} KB brotli | ≤ 250 KB gzip |`,
  `| first visit to \`/chat\`: WASM + JS | ${kb(firstVisit("chat").raw)} KB raw, ${kb(firstVisit("chat").gzip)} KB gzip, ${kb(firstVisit("chat").brotli)} KB brotli | ≤ 250 KB gzip |`,
  `| \`/\` (SSR home page) | ${homeRps} req/s, p50 ${homeP50}, p99 ${homeP99} | – |`,
  `| \`/healthz\` | ${healthRps} req/s, p50 ${healthP50}, p99 ${healthP99} | – |`,
  `| one login (argon2id verify m=19456 KiB, t=2, p=1, plus session write), median of 10 | ${logins.singleMedianMs.toFixed(1)} ms | – |`,
  `| 50 concurrent logins | ${logins.loginsPerSecond.toFixed(1)} logins/s, p50 ${logins.concurrentP50Ms.toFixed(0)} ms, p99 ${logins.concurrentP99Ms.toFixed(0)} ms, ${logins.failures} failed, ${logins.refused ?? 0} refused by the hashing queue (503) | – |`,
  `| \`/healthz\` while they run | ${duringRps} req/s, p50 ${duringP50}, p99 ${duringP99} | p99 ≤ 20 ms |`,
  ...["home", "chat"].map(
    (p) =>
      `| in Chromium, first visit to ${p === "home" ? "`/`" : "`/chat`"}: client on the wire | ${pages[p].files} files, ` +
      `${kb(pages[p].wasm)} KB WASM + ${kb(pages[p].js)} KB JS (as served) | – |`,
  ),
  ...["home", "chat"].map(
    (p) =>
      `| in Chromium, first visit to ${p === "home" ? "`/`" : "`/chat`"}: to hydrated, median of 5 | ` +
      `${pages[p].hydratedMsLocal} ms localhost, ${pages[p].hydratedMsSlowPhone} ms slow phone (4× CPU, 1.6 Mbps, 150 ms RTT) | – |`,
  ),
  ...Object.entries(pages.navigation).flatMap(([name, n]) => [
    `| ${name}: click to a page whose code was never fetched, heading shown / form ready (median of 5) | ` +
      `${n.notLoaded.shownMs} / ${n.notLoaded.readyMs} ms | ≤ 150 ms (shown) |`,
    `| ${name}: the same after pointing at its link (preloaded) | ${n.preloaded.shownMs} / ${n.preloaded.readyMs} ms | – |`,
  ]),
];
console.log(lines.join("\n"));
console.log("\nWhat the first visit to each page downloads of the client (each file compressed on its own):\n");
console.log(table(client));

let over = false;
for (const [name, value, limit, unit] of budgets) {
  if (value > limit) {
    console.error(`OVER BUDGET: ${name} is ${value.toFixed(1)} ${unit} (budget ${limit} ${unit})`);
    over = true;
  }
}
process.exit(over ? 1 : 0);
