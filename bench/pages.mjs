// The client as a browser gets it, against a running server: for a first visit to `/` and to `/chat` (logged in),
// the WASM and JS bytes on the wire (as served, compressed) and the time to hydration, on localhost and on a slow
// phone profile (4× CPU slowdown, 1.6 Mbps, 150 ms round trip); then the time a click takes to show a page whose
// code was never fetched (no hover first, so nothing was preloaded) and one that was preloaded by pointing at its
// link (signed out: home → register; signed in: chat → settings), timed in the page from the click to the new heading
// and to its form — median of `runs`. Prints JSON.
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

// A click on a link from `from` to a page of another split point (its code not fetched yet unless `preload` pointed
// at the link first), timed in the page from the click to the new page's heading and to `ready` (its form, with the
// data it loads).
async function navigation({ from, link: selector, heading, ready, login }, preload) {
  const { context, page } = await session({ login });
  await page.goto(`${base}${from}`);
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.waitForLoadState("networkidle");
  const link = page.locator(selector).first();
  if (preload) {
    await link.hover();
    await page.waitForLoadState("networkidle");
  }
  const ms = await link.evaluate(
    (a, [heading, ready]) =>
      new Promise((resolve) => {
        const started = performance.now();
        let shownMs = null;
        const check = () => {
          if (shownMs === null && [...document.querySelectorAll("h1")].some((h) => h.textContent.includes(heading))) {
            shownMs = Math.round(performance.now() - started);
          }
          if (shownMs !== null && document.querySelector(ready)) {
            observer.disconnect();
            resolve({ shownMs, readyMs: Math.round(performance.now() - started) });
          }
        };
        const observer = new MutationObserver(check);
        observer.observe(document.body, { childList: true, subtree: true, characterData: true });
        a.click();
      }),
    [heading, ready],
  );
  await context.close();
  return ms;
}

const navigations = {
  // Signed out: the home page's link to the register form (the account forms' split point).
  homeToRegister: { from: "/", link: 'main a[href="/register"]', heading: "Create an account", ready: "form input[type=password]", login: false },
  // Signed in: the chat sidebar's Settings button (the settings' split point; the page then loads the profile).
  chatToSettings: { from: "/chat", link: 'a[href="/settings"]', heading: "Settings", ready: "form textarea", login: true },
};

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
result.navigation = {};
for (const [name, nav] of Object.entries(navigations)) {
  const cold = [];
  const warm = [];
  for (let i = 0; i < runs; i++) {
    cold.push(await navigation(nav, false));
    warm.push(await navigation(nav, true));
  }
  const pick = (xs, key) => median(xs.map((x) => x[key]));
  result.navigation[name] = {
    notLoaded: { shownMs: pick(cold, "shownMs"), readyMs: pick(cold, "readyMs"), runs: cold.map((x) => x.shownMs) },
    preloaded: { shownMs: pick(warm, "shownMs"), readyMs: pick(warm, "readyMs") },
  };
}
await browser.close();
console.log(JSON.stringify(result, null, 2));
