// What the main thread does while a page loads and hydrates (issue #28): a Chromium trace of a first visit with the
// CPU 4× slower (Lighthouse's mobile factor), then its tasks over 50 ms and, inside each, the time per kind of work
// (script evaluation, WebAssembly compilation and instantiation, function calls, style, layout, garbage collection).
// Prints JSON.  node bench/hydration-trace.mjs BASE_URL USERNAME PASSWORD PATH [CPU_SLOWDOWN]
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(path.dirname(new URL(import.meta.url).pathname), "../end2end/package.json"));
const { chromium } = require("playwright");

const [base, username, password, pathname, slowdown = "4"] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking"],
});
try {
  const context = await browser.newContext();
  const res = await context.request.post(`${base}/api/accounts/api/login/`, {
    data: { username, password },
    headers: { Origin: base },
  });
  if (!res.ok()) throw new Error(`login: ${res.status()}`);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: Number(slowdown) });
  await browser.startTracing(page, {
    categories: [
      "devtools.timeline",
      "disabled-by-default-devtools.timeline",
      "v8",
      "v8.execute",
      "disabled-by-default-v8.compile",
      "disabled-by-default-v8.wasm.detailed",
      "v8.wasm",
      "blink",
      "loading",
    ],
  });
  await page.goto(`${base}${pathname}`);
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 60_000 });
  await page.waitForTimeout(1_500);
  const trace = JSON.parse((await browser.stopTracing()).toString());
  const events = trace.traceEvents ?? trace;
  // The renderer's main thread that ran the page's script (other renderers may have one too).
  const mains = events.filter((e) => e.name === "thread_name" && e.args?.name === "CrRendererMain");
  const busiest = mains
    .map((m) => ({
      m,
      n: events.filter((e) => e.pid === m.pid && e.tid === m.tid && e.name === "FunctionCall").length,
    }))
    .sort((a, b) => b.n - a.n)[0].m;
  const onMain = events.filter((e) => e.pid === busiest.pid && e.tid === busiest.tid && e.ph === "X" && e.dur);
  // Top-level tasks: events over 50 ms that no other event contains.
  const long = onMain.filter((e) => e.dur > 50_000);
  const tasks = long
    .filter((e) => !long.some((p) => p !== e && e.ts >= p.ts && e.ts + e.dur <= p.ts + p.dur && p.dur > e.dur))
    .sort((a, b) => a.ts - b.ts);
  const out = tasks.map((task) => {
    const inside = onMain.filter((e) => e !== task && e.ts >= task.ts && e.ts + e.dur <= task.ts + task.dur);
    // Self time per event name: its duration minus its direct children's.
    const self = new Map();
    for (const e of inside) {
      const children = inside.filter((c) => c !== e && c.ts >= e.ts && c.ts + c.dur <= e.ts + e.dur);
      const direct = children.filter(
        (c) => !children.some((p) => p !== c && c.ts >= p.ts && c.ts + c.dur <= p.ts + p.dur),
      );
      const own = e.dur - direct.reduce((n, c) => n + c.dur, 0);
      self.set(e.name, (self.get(e.name) ?? 0) + Math.max(0, own));
    }
    const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12);
    return {
      startMs: Math.round((task.ts - tasks[0].ts) / 1000),
      task: task.name,
      durationMs: Math.round(task.dur / 1000),
      selfMs: Object.fromEntries(top.map(([name, us]) => [name, Math.round(us / 100) / 10])),
    };
  });
  console.log(JSON.stringify({ path: pathname, slowdown: Number(slowdown), longTasks: out }, null, 1));
} finally {
  await browser.close();
}
