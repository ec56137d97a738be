// The latency the OpenAI-compatible API adds (issue #30). Starts the fake Mistral server and the release server, makes
// a /v1/-only token, then keeps STREAMS streamed completions running at once (TOKENS tokens at TPS tokens/s each,
// every token stamped by the fake with the moment it left): STREAMS clients, started at random moments over one
// stream's length, each sending ROUNDS completions one after the other — so every completion starts while the others
// stream. This is done twice: straight to the fake, and through ThiCode's /v1/chat/completions (with
// `stream_options.include_usage`, which ThiCode must drop on the way). For each path: time to the first token from the
// moment the request was sent, and each token's delay from the fake's stamp to this reader. The difference between
// the two paths is what ThiCode adds (auth, quota check and ledger, translation, relay). Then the same once more for a
// burst, STREAMS completions sent at the same instant, and for an account with a limit (its call is counted before
// it starts). Prints JSON.  node bench/openai.mjs BINARY PORT FAKE_PORT WORK [STREAMS] [TPS] [TOKENS] [ROUNDS]
import { execFileSync, spawn } from "node:child_process";
import http from "node:http";
import path from "node:path";

const [binary, port, fakePort, work, streams = "200", tps = "20", tokens = "50", rounds = "3"] = process.argv.slice(2);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const env = {
  PATH: process.env.PATH,
  THICODE_CONFIG: path.join(root, "Leptos.toml"),
  LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
  LEPTOS_SITE_ROOT: path.join(root, "target", "site"),
  DATABASE_URL: `sqlite://${work}/openai-bench.db`,
  MISTRAL_API_KEY: "fake-key",
  MISTRAL_BASE_URL: `http://127.0.0.1:${fakePort}`,
  RATE_LIMIT_MESSAGES_PER_MINUTE: "0",
  RUST_LOG: "error",
};
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(streams) + 10 });
const nowMicros = () => (performance.timeOrigin + performance.now()) * 1000;
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function post(targetPort, urlPath, body, headers = {}, method = "POST") {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = http.request(
      { host: "127.0.0.1", port: targetPort, method, path: urlPath, agent,
        headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(data), ...headers } },
      (res) => { let text = ""; res.on("data", (c) => (text += c)); res.on("end", () => resolve({ status: res.statusCode, text })); },
    );
    req.on("error", reject);
    req.end(data);
  });
}

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

/** One streamed completion: its time to first token (ms) and every token's delay from the fake's stamp (ms). */
function stream(targetPort, key, body) {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const sent = nowMicros();
    let first = null;
    const delays = [];
    let done = false;
    const req = http.request(
      { host: "127.0.0.1", port: targetPort, method: "POST", path: "/v1/chat/completions", agent,
        headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(data) } },
      (res) => {
        if (res.statusCode !== 200) { res.resume(); reject(new Error(`HTTP ${res.statusCode}`)); return; }
        let buffer = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => {
          const at = nowMicros();
          buffer += chunk;
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const event = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const payload = event.replace(/^data: /, "");
            if (payload === "[DONE]") { done = true; continue; }
            const content = JSON.parse(payload).choices?.[0]?.delta?.content ?? "";
            for (const m of content.matchAll(/@(\d+)/g)) {
              if (first === null) first = (at - sent) / 1000;
              delays.push((at - Number(m[1])) / 1000);
            }
          }
        });
        res.on("end", () => (done ? resolve({ first, delays }) : reject(new Error("no [DONE]"))));
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

const body = (i, extra) => ({
  model: "mistral-small-latest",
  messages: [{ role: "user", content: `[fake:stamp] [fake:tokens=${tokens}] bench ${i}` }],
  stream: true,
  ...extra,
});

/** STREAMS completions sent at the same instant. */
async function burst(targetPort, key, extra) {
  return Promise.allSettled(Array.from({ length: Number(streams) }, (_, i) => stream(targetPort, key, body(i, extra))));
}

/** STREAMS clients each sending ROUNDS completions in turn, started at random moments over one stream's length. */
async function steady(targetPort, key, extra) {
  const length = (Number(tokens) / Number(tps)) * 1000;
  const clients = Array.from({ length: Number(streams) }, async (_, i) => {
    await sleep(Math.random() * length);
    const out = [];
    for (let r = 0; r < Number(rounds); r++) {
      out.push(...(await Promise.allSettled([stream(targetPort, key, body(i, extra))])));
    }
    return out;
  });
  return (await Promise.all(clients)).flat();
}

function summary(all) {
  const ok = all.filter((r) => r.status === "fulfilled").map((r) => r.value);
  const firsts = ok.map((r) => r.first).sort((a, b) => a - b);
  const delays = ok.flatMap((r) => r.delays).sort((a, b) => a - b);
  const r2 = (x) => Math.round(x * 100) / 100;
  return {
    streams: all.length, failed: all.length - ok.length, tokens: delays.length,
    first_token_ms: { p50: r2(percentile(firsts, 50)), p99: r2(percentile(firsts, 99)) },
    token_delay_ms: { p50: r2(percentile(delays, 50)), p99: r2(percentile(delays, 99)) },
  };
}

const fake = spawn(binary, ["fake-mistral", "--addr", `127.0.0.1:${fakePort}`, "--tokens-per-second", tps], { stdio: "ignore" });
execFileSync(binary, ["createsuperuser", "--noinput", "--username", "bench", "--email", "bench@example.com"], {
  env: { ...env, THICODE_SUPERUSER_PASSWORD: "Bench-Password-2026" }, stdio: "ignore",
});
const server = spawn(binary, ["serve"], { env, stdio: "ignore" });
try {
  await waitFor(`http://127.0.0.1:${fakePort}/_fake/requests`);
  await waitFor(`http://127.0.0.1:${port}/healthz`);
  const jwt = JSON.parse((await post(port, "/api/token/", { username: "bench", password: "Bench-Password-2026" })).text).access;
  const created = await post(port, "/api/accounts/tokens/", { name: "bench", scope: "v1" }, { Authorization: `Bearer ${jwt}` });
  const key = JSON.parse(created.text).key;
  const usage = { stream_options: { include_usage: true } };
  // Warm both paths (connections, the model list's cache).
  await burst(fakePort, "fake-key", {});
  await burst(port, key, usage);
  const direct = summary(await steady(fakePort, "fake-key", {}));
  const through = summary(await steady(port, key, usage));
  const burstDirect = summary(await burst(fakePort, "fake-key", {}));
  const burstThrough = summary(await burst(port, key, usage));
  // An account with a daily token limit: each call's ledger row is written (and the limits checked) before it starts.
  const limited = await post(port, "/api/accounts/tokens/", { name: "limited", scope: "v1" }, { Authorization: `Bearer ${jwt}` });
  const set = await post(port, "/api/admin/settings/", { quota: { messages_per_day: 1000000 } }, { Authorization: `Bearer ${jwt}` }, "PATCH");
  if (set.status !== 200) throw new Error(`limit not set: ${set.text}`);
  const limitedThrough = summary(await steady(port, JSON.parse(limited.text).key, usage));
  const added = (a, b) => {
    const d = (k, p) => Math.round((b[k][p] - a[k][p]) * 100) / 100;
    return {
      first_token: { p50: d("first_token_ms", "p50"), p99: d("first_token_ms", "p99") },
      per_token: { p50: d("token_delay_ms", "p50"), p99: d("token_delay_ms", "p99") },
    };
  };
  console.log(JSON.stringify({
    streams: Number(streams), tokens_per_second: Number(tps), tokens: Number(tokens), rounds: Number(rounds),
    steady: { direct_to_fake: direct, through_thicode: through, added_ms: added(direct, through) },
    steady_with_a_limit: { through_thicode: limitedThrough, added_ms: added(direct, limitedThrough) },
    burst: { direct_to_fake: burstDirect, through_thicode: burstThrough, added_ms: added(burstDirect, burstThrough) },
  }, null, 2));
} finally {
  server.kill();
  fake.kill();
}
