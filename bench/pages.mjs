// The client as a browser gets it, against a running server: for a first visit to `/` and to `/chat` (logged in),
// the WASM and JS bytes on the wire (as served, compressed) and the time to hydration, on localhost and on a slow
// phone profile (4× CPU slowdown, 1.6 Mbps, 150 ms round trip); then the time a click takes to show a page whose
// code was never fetched (no hover first, so nothing was preloaded) and one that was preloaded by pointing at its
// link, timed in the page from the click to the new heading — median of `runs`. Prints JSON.
//   node bench/pages.mjs BASE_URL USERNAME PASSWORD [RUNS]
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(path.dirname(new URL(import.meta.url).pathname), "../end2end/package.json"));
const { chromium } = require("playwright");

const [base, username, password, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 5);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking"],
});

async function session({ slow = false, login = false } = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  const urls = new Map();
  const client = { wasm: 0, js: 0, files: 0 };
  cdp.on("Network.responseReceived", (e) => urls.set(e.requestId, e.response.url));
  cdp.on("Network.loadingFinished", (e) => {
    const url = urls.get(e.requestId) ?? "";
    if (/\.wasm$/.test(url)) (client.wasm += e.encodedDataLength), (client.files += 1);
    if (/\/pkg\/.*\.js$/.test(url)) (client.js += e.encodedDataLength), (client.files += 1);
  });
  if (login) {
    const res = await context.request.post(`${base}/api/accounts/api/login/`, {
      data: { username, password },
      headers: { Origin: base },
    });
    if (!res.ok()) throw new Error(`login: ${res.status()}`);
  }
  if (slow) {
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 150,
      downloadThroughput: (1.6 * 1024 * 1024) / 8,
      uploadThroughput: (750 * 1024) / 8,
    });
  }
  return { context, page, client };
}

async function firstVisit(pathname, opts) {
  const { context, page, client } = await session(opts);
  const started = Date.now();
  await page.goto(`${base}${pathname}`);
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 60_000 });
  const hydratedMs = Date.now() - started;
  await page.waitForLoadState("networkidle");
  await context.close();
  return { ...client, hydratedMs };
}

async function navigation(preload) {
  const { context, page } = await session();
  await page.goto(`${base}/login`);
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.waitForLoadState("networkidle");
  const link = page.locator('a[href="/forgot-password"]');
  if (preload) {
    await link.hover();
    await page.waitForLoadState("networkidle");
  }
  // Timed in the page, from the click to the new page's heading in the document.
  const ms = await link.evaluate(
    (a) =>
      new Promise((resolve) => {
        const started = performance.now();
        const shown = () => [...document.querySelectorAll("h1")].some((h) => h.textContent.includes("Reset your password"));
        const observer = new MutationObserver(() => {
          if (shown()) {
            observer.disconnect();
            resolve(Math.round(performance.now() - started));
          }
        });
        observer.observe(document.body, { childList: true, subtree: true, characterData: true });
        a.click();
      }),
  );
  await context.close();
  return ms;
}

const result = {};
for (const [name, pathname, login] of [
  ["home", "/", false],
  ["chat", "/chat", true],
]) {
  const local = [];
  const slow = [];
  let bytes;
  for (let i = 0; i < runs; i++) {
    const fast = await firstVisit(pathname, { login });
    local.push(fast.hydratedMs);
    bytes = { wasm: fast.wasm, js: fast.js, files: fast.files };
    slow.push((await firstVisit(pathname, { login, slow: true })).hydratedMs);
  }
  result[name] = { ...bytes, hydratedMsLocal: median(local), hydratedMsSlowPhone: median(slow) };
}
const cold = [];
const warm = [];
for (let i = 0; i < runs; i++) {
  cold.push(await navigation(false));
  warm.push(await navigation(true));
}
result.navigation = { notLoadedMs: median(cold), preloadedMs: median(warm) };
await browser.close();
console.log(JSON.stringify(result, null, 2));
