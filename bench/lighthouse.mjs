// Lighthouse (issue #28) against a running release server: every page, with the mobile preset (simulated slow 4G,
// 4× slower CPU) and the desktop preset, in Debian's Chromium. Logged-in pages get the session cookie (Lighthouse's
// extra headers). Records each page's four category scores and its metrics: First Contentful Paint, Largest
// Contentful Paint, Total Blocking Time, Speed Index, Cumulative Layout Shift, Time to Interactive, and the longest
// main-thread task. Prints JSON.
//   node bench/lighthouse.mjs LIGHTHOUSE_DIR BASE_URL USERNAME PASSWORD CONVERSATION_ID [RUNS] [PAGE_FILTER]
import path from "node:path";

const [dir, base, username, password, conversation, runsArg = "1", filter = ""] = process.argv.slice(2);
const runs = Number(runsArg);
const modules = path.join(dir, "node_modules");
const { default: lighthouse } = await import(path.join(modules, "lighthouse/core/index.js"));
const { default: desktopConfig } = await import(path.join(modules, "lighthouse/core/config/desktop-config.js"));
const chromeLauncher = await import(path.join(modules, "chrome-launcher/dist/index.js"));

async function sessionCookie() {
  const res = await fetch(`${base}/api/accounts/api/login/`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Origin: base },
    body: JSON.stringify({ username, password }),
  });
  if (!res.ok) throw new Error(`login: ${res.status} ${await res.text()}`);
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith("sessionid="));
  return cookie.split(";")[0];
}

const pages = [
  ["home", "/", false],
  ["login", "/login", false],
  ["register", "/register", false],
  ["password reset", "/forgot-password", false],
  ["new chat", "/chat", true],
  ["long conversation", `/chat/${conversation}`, true],
  ["settings", "/settings", true],
  ["admin", "/admin", true],
  ["admin users", "/admin/users", true],
  ["admin usage", "/admin/usage", true],
  ["admin tools", "/admin/tools", true],
].filter(([name]) => !filter || name.includes(filter));

const cookie = await sessionCookie();
const chrome = await chromeLauncher.launch({
  chromePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  chromeFlags: [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
    // Experiments: e.g. `--js-flags=--no-wasm-lazy-compilation`.
    ...(process.env.LIGHTHOUSE_CHROME_FLAGS ?? "").split(" ").filter(Boolean),
  ],
});
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = [];
try {
  for (const [name, pathname, logged] of pages) {
    for (const preset of ["mobile", "desktop"]) {
      const tries = [];
      for (let i = 0; i < runs; i++) {
        const flags = {
          port: chrome.port,
          output: "json",
          logLevel: "error",
          onlyCategories: ["performance", "accessibility", "best-practices", "seo"],
          ...(logged ? { extraHeaders: { Cookie: cookie } } : {}),
        };
        const { lhr } = await lighthouse(`${base}${pathname}`, flags, preset === "desktop" ? desktopConfig : undefined);
        const audit = (id) => lhr.audits[id]?.numericValue;
        const tasks = lhr.audits["long-tasks"]?.details?.items ?? [];
        tries.push({
          performance: Math.round(lhr.categories.performance.score * 100),
          accessibility: Math.round(lhr.categories.accessibility.score * 100),
          bestPractices: Math.round(lhr.categories["best-practices"].score * 100),
          seo: Math.round(lhr.categories.seo.score * 100),
          fcpMs: Math.round(audit("first-contentful-paint")),
          lcpMs: Math.round(audit("largest-contentful-paint")),
          tbtMs: Math.round(audit("total-blocking-time")),
          speedIndexMs: Math.round(audit("speed-index")),
          cls: Math.round(audit("cumulative-layout-shift") * 1000) / 1000,
          ttiMs: Math.round(audit("interactive")),
          longestTaskMs: Math.round(Math.max(0, ...tasks.map((t) => t.duration))),
          longestTaskUrl: tasks.sort((a, b) => b.duration - a.duration)[0]?.url ?? null,
          failed: ["accessibility", "best-practices", "seo"].flatMap((c) =>
            lhr.categories[c].auditRefs
              .filter((r) => r.weight > 0 && lhr.audits[r.id].score !== null && lhr.audits[r.id].score < 1)
              .map((r) => `${c}: ${r.id}`),
          ),
          finalUrl: lhr.finalDisplayedUrl,
        });
      }
      // The run with the median performance score.
      const score = median(tries.map((t) => t.performance));
      results.push({ page: name, path: pathname, preset, runs, ...tries.find((t) => t.performance === score) });
      process.stderr.write(`${name} (${preset}): ${score}\n`);
    }
  }
} finally {
  await chrome.kill();
}
console.log(JSON.stringify(results));
