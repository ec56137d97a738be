// Chat benchmark against the fake Mistral server on loopback. Starts the fake (`thicode fake-mistral`) and the release
// server, then:
//  1. STREAMS concurrent replies at TPS tokens/s (TOKENS each), each followed over Server-Sent Events; every token
//     carries the time the fake sent it, so the delay added by ThiCode (fake → server → SSE reader) is measured per
//     token; counts replies that did not end `delivered`; samples the server's peak RSS.
//  2. Server-side rendering of a conversation of 500 messages: sequential GETs, p50/p99.
// Prints JSON.  node bench/chat.mjs BINARY PORT FAKE_PORT WORK [STREAMS] [TPS] [TOKENS]
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";

const [binary, port, fakePort, work, streams = "1000", tps = "20", tokens = "100"] = process.argv.slice(2);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const origin = `http://127.0.0.1:${port}`;
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(streams) + 50 });
const env = {
  PATH: process.env.PATH,
  THICODE_CONFIG: path.join(root, "Leptos.toml"),
  LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
  LEPTOS_SITE_ROOT: path.join(root, "target", "site"),
  DATABASE_URL: `sqlite://${work}/chat-bench.db`,
  MISTRAL_API_KEY: "fake-key",
  MISTRAL_BASE_URL: `http://127.0.0.1:${fakePort}`,
  RATE_LIMIT_MESSAGES_PER_MINUTE: "0",
  RATE_LIMIT_MESSAGES_PER_DAY: "0",
  RUST_LOG: "error",
};

function request(method, urlPath, { body, cookie } = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = http.request(
      {
        host: "127.0.0.1", port, method, path: urlPath, agent,
        headers: {
          Origin: origin,
          Accept: "application/json",
          "Content-Type": "application/x-www-form-urlencoded",
          ...(cookie ? { Cookie: cookie } : {}),
          ...(body ? { "Content-Length": Buffer.byteLength(body) } : {}),
        },
      },
      (res) => {
        let text = "";
        res.on("data", (c) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, text, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
      },
    );
    req.on("error", reject);
    if (body) req.write(body);
    req.end();
  });
}

const nowMicros = () => (performance.timeOrigin + performance.now()) * 1000;
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(url) {
  for (let i = 0; i < 300; i++) {
    const ok = await new Promise((resolve) => {
      http.get(url, (res) => { res.resume(); resolve(res.statusCode === 200); }).on("error", () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`${url} did not answer`);
}

const fake = spawn(binary, ["fake-mistral", "--addr", `127.0.0.1:${fakePort}`, "--tokens-per-second", tps], { stdio: "ignore" });
execFileSync(binary, ["createsuperuser", "--noinput", "--username", "bench", "--email", "bench@example.com"], {
  env: { ...env, THICODE_SUPERUSER_PASSWORD: "Bench-Password-2026" }, stdio: "ignore",
});
const server = spawn(binary, ["serve"], { env, stdio: "ignore" });
const rssKb = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${server.pid}/status`, "utf8"))[1]);
try {
  await waitFor(`http://127.0.0.1:${fakePort}/_fake/requests`);
  await waitFor(`${origin}/healthz`);
  const loginPage = await request("GET", "/login");
  const loginPath = /action="(\/_server\/login[0-9]+)"/.exec(loginPage.text)[1];
  const login = await request("POST", loginPath, { body: "login=bench&password=Bench-Password-2026" });
  const cookie = [].concat(login.headers["set-cookie"]).find((c) => c.startsWith("sessionid=")).split(";")[0];
  const chatPage = await request("GET", "/chat", { cookie });
  const sendPath = /action="(\/_server\/send_message[0-9]+)"/.exec(chatPage.text)[1];
  const idleRssKb = rssKb("VmRSS");

  // 1. Concurrent streams: every client sends, then follows its reply over SSE as soon as its send is answered (as
  // the page does), so tokens of the first replies are measured while the later sends are still being taken in.
  const prompt = encodeURIComponent(`[fake:stamp] [fake:tokens=${tokens}] benchmark`);
  const delays = [];
  const intakeDelays = [];
  let sendFailures = 0;
  let notDelivered = 0;
  let peakRssKb = 0;
  let intakeOver = false;
  const sampler = setInterval(() => { peakRssKb = Math.max(peakRssKb, rssKb("VmRSS")); }, 100);
  const started = Date.now();
  const follow = (sent) => new Promise((resolve) => {
    const req = http.get(
      { host: "127.0.0.1", port, agent, path: `/chat/${sent.conversation_id}/messages/${sent.assistant_message_id}/events`, headers: { Cookie: cookie } },
      (res) => {
        let buffer = "";
        let done = false;
        res.setEncoding("utf8");
        res.on("data", (chunk) => {
          const at = nowMicros();
          buffer += chunk;
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event === "delta") {
              for (const m of JSON.parse(data).text.matchAll(/@(\d+)/g)) {
                const ms = (at - Number(m[1])) / 1000;
                delays.push(ms);
                if (!intakeOver) intakeDelays.push(ms);
              }
            } else if (event === "done") {
              done = true;
              if (JSON.parse(data).status !== "delivered") notDelivered += 1;
              req.destroy();
              resolve();
            }
          }
        });
        res.on("end", () => { if (!done) notDelivered += 1; resolve(); });
      },
    );
    req.on("error", () => { notDelivered += 1; resolve(); });
  });
  const sends = Array.from({ length: Number(streams) }, () =>
    request("POST", sendPath, { body: `content=${prompt}`, cookie }).then((s) => {
      if (s.status !== 200) {
        sendFailures += 1;
        notDelivered += 1;
        return null;
      }
      return JSON.parse(s.text);
    }),
  );
  // The reader's own delay (this process's event loop) is part of every measured token: measured to tell them apart.
  const readerLag = monitorEventLoopDelay({ resolution: 1 });
  readerLag.enable();
  const follows = sends.map((send) => send.then((sent) => (sent ? follow(sent) : null)));
  await Promise.all(sends);
  intakeOver = true;
  readerLag.disable();
  const intakeSeconds = (Date.now() - started) / 1000;
  await Promise.all(follows);
  clearInterval(sampler);
  const streamSeconds = (Date.now() - started) / 1000;
  delays.sort((a, b) => a - b);
  intakeDelays.sort((a, b) => a - b);

  // 2. Rendering a conversation of 500 messages (250 exchanges).
  const quick = encodeURIComponent("[fake:tps=2000] [fake:tokens=40] question");
  let conversation = null;
  for (let i = 0; i < 250; i++) {
    const body = `content=${quick}${conversation ? `&conversation_id=${conversation}` : ""}`;
    let answer = await request("POST", sendPath, { body, cookie });
    while (answer.status === 409) { await sleep(5); answer = await request("POST", sendPath, { body, cookie }); }
    conversation = JSON.parse(answer.text).conversation_id;
  }
  await sleep(500);
  const renders = [];
  for (let i = 0; i < 5; i++) await request("GET", `/chat/${conversation}`, { cookie });
  for (let i = 0; i < 100; i++) renders.push((await request("GET", `/chat/${conversation}`, { cookie })).ms);
  renders.sort((a, b) => a - b);
  const page = await request("GET", `/chat/${conversation}`, { cookie });

  console.log(JSON.stringify({
    streams: Number(streams), tps: Number(tps), tokens: Number(tokens), sendFailures, notDelivered,
    tokensMeasured: delays.length, delayP50Ms: percentile(delays, 50), delayP99Ms: percentile(delays, 99),
    delayMaxMs: delays[delays.length - 1], streamSeconds, intakeSeconds,
    intakeTokens: intakeDelays.length, intakeDelayP99Ms: percentile(intakeDelays, 99) ?? null,
    intakeReaderLagP99Ms: readerLag.percentile(99) / 1e6, intakeReaderLagMaxMs: readerLag.max / 1e6, idleRssKb, peakRssKb, hwmRssKb: rssKb("VmHWM"),
    renderMessages: (page.text.match(/data-testid="message-/g) ?? []).length, renderP50Ms: percentile(renders, 50),
    renderP99Ms: percentile(renders, 99), renderBytes: page.text.length,
  }));
} finally {
  server.kill("SIGTERM");
  fake.kill("SIGTERM");
}
