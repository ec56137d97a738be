// Tools benchmark (issue #27) against the fake Mistral server and its fake SearXNG on loopback. Starts the fake
// (`thicode fake-mistral`) and the release server with web search pointed at the fake, logs in, then:
//  1. Round overhead: ROUNDS replies one after the other, each calling web_search once on a query the fake SearXNG
//     answers after 50 ms. The fake notes on one clock (`[fake:timeline]`) when it finished sending the call, when the
//     search came and was answered, and when the request carrying the result came; a round adds
//     (next request − call sent) − (search answered − search came): reading the call, storing the step, the HTTP
//     request to the tool, storing the result and sending the history back.
//  2. Isolation: CONCURRENT stamped replies streaming alone (20 tokens/s, 100 tokens), then again while CONCURRENT
//     other replies each wait on a search the fake answers after 4 s; the token latency (fake → ThiCode → SSE reader,
//     `[fake:stamp]`) of the streaming replies in both runs, and that every reply was delivered.
// Prints JSON.  node bench/tools.mjs BINARY PORT FAKE_PORT WORK [ROUNDS] [CONCURRENT]
import { execFileSync, spawn } from "node:child_process";
import http from "node:http";
import path from "node:path";

const [binary, port, fakePort, work, rounds = "300", concurrent = "50"] = process.argv.slice(2);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const origin = `http://127.0.0.1:${port}`;
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 * Number(concurrent) + 50 });
const env = {
  PATH: process.env.PATH,
  THICODE_CONFIG: path.join(root, "Leptos.toml"),
  LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
  LEPTOS_SITE_ROOT: path.join(root, "target", "site"),
  DATABASE_URL: `sqlite://${work}/tools-bench.db`,
  MISTRAL_API_KEY: "fake-key",
  MISTRAL_BASE_URL: `http://127.0.0.1:${fakePort}`,
  WEB_SEARCH_BACKEND: "searxng",
  WEB_SEARCH_URL: `http://127.0.0.1:${fakePort}/_fake/searxng`,
  RATE_LIMIT_MESSAGES_PER_MINUTE: "0",
  RATE_LIMIT_MESSAGES_PER_DAY: "0",
  RUST_LOG: "error",
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const nowMicros = () => (performance.timeOrigin + performance.now()) * 1000;
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const summary = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (v) => Math.round(v * 100) / 100;
  return { n: sorted.length, p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), max: round(sorted[sorted.length - 1]) };
};

function request(method, urlPath, { body, cookie, to = port } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1", port: to, method, path: urlPath, agent,
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
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, text }));
      },
    );
    req.on("error", reject);
    if (body) req.write(body);
    req.end();
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

/** Follows a reply over its Server-Sent Events until `done`; the stamped tokens' delays go to `delays`. Resolves to
 * the reply's final status. */
function follow(sent, cookie, delays) {
  return new Promise((resolve) => {
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
            if (event === "delta" && delays) {
              for (const m of JSON.parse(data).text.matchAll(/@(\d+)/g)) delays.push((at - Number(m[1])) / 1000);
            } else if (event === "done") {
              done = true;
              req.destroy();
              resolve(JSON.parse(data).status);
            }
          }
        });
        res.on("end", () => { if (!done) resolve("unfinished"); });
      },
    );
    req.on("error", () => resolve("error"));
  });
}

const fake = spawn(binary, ["fake-mistral", "--addr", `127.0.0.1:${fakePort}`, "--tokens-per-second", "20"], { stdio: "ignore" });
execFileSync(binary, ["createsuperuser", "--noinput", "--username", "bench", "--email", "bench@example.com"], {
  env: { ...env, THICODE_SUPERUSER_PASSWORD: "Bench-Password-2026" }, stdio: "ignore",
});
const server = spawn(binary, ["serve"], { env, stdio: "ignore" });
try {
  await waitFor(`http://127.0.0.1:${fakePort}/_fake/requests`);
  await waitFor(`${origin}/healthz`);
  const loginPage = await request("GET", "/login");
  const loginPath = /action="(\/_server\/login[0-9]+)"/.exec(loginPage.text)[1];
  const login = await request("POST", loginPath, { body: "login=bench&password=Bench-Password-2026" });
  const cookie = [].concat(login.headers["set-cookie"]).find((c) => c.startsWith("sessionid=")).split(";")[0];
  const chatPage = await request("GET", "/chat", { cookie });
  const sendPath = /action="(\/_server\/send_message[0-9]+)"/.exec(chatPage.text)[1];
  const send = async (content) => {
    const answer = await request("POST", sendPath, { body: `content=${encodeURIComponent(content)}`, cookie });
    if (answer.status !== 200) throw new Error(`send: ${answer.status} ${answer.text}`);
    return JSON.parse(answer.text);
  };

  // 1. The time a round adds, one reply at a time (a few first to warm up).
  const warmup = 10;
  const statuses = [];
  for (let i = 0; i < warmup + Number(rounds); i++) {
    const sent = await send(`[fake:timeline] [fake:tps=1000] [fake:call=web_search {"query": "slow:50 timeline-${i}."}] round-${i}.`);
    statuses.push(await follow(sent, cookie, null));
  }
  const timeline = JSON.parse((await request("GET", "/_fake/timeline", { to: fakePort })).text);
  const at = (event, key) => timeline.find((e) => e.event === event && e.key.includes(key))?.at;
  const added = [];
  const toolMs = [];
  for (let i = warmup; i < warmup + Number(rounds); i++) {
    const callSent = at("calls_sent", `round-${i}.`);
    const next = timeline.find((e) => e.event === "request" && e.key.includes(`round-${i}.`) && e.key.endsWith("#1"))?.at;
    const searchIn = at("search_in", `timeline-${i}.`);
    const searchOut = at("search_out", `timeline-${i}.`);
    if ([callSent, next, searchIn, searchOut].some((v) => v === undefined)) continue;
    added.push((next - callSent - (searchOut - searchIn)) / 1000);
    toolMs.push((searchOut - searchIn) / 1000);
  }

  // 2. Streaming replies alone, then beside replies waiting on a slow tool.
  const streamed = async (withSlowTools) => {
    const delays = [];
    const slow = withSlowTools
      ? await Promise.all(Array.from({ length: Number(concurrent) }, (_, i) =>
          send(`[fake:call=web_search {"query": "slow:4000 waiting-${i}"}] wait-${i}`)))
      : [];
    // The slow replies are all waiting on their tool before the others start.
    if (withSlowTools) await sleep(500);
    const fast = await Promise.all(Array.from({ length: Number(concurrent) }, () => send("[fake:stamp] [fake:tokens=100] streaming")));
    const ends = await Promise.all([
      ...fast.map((s) => follow(s, cookie, delays)),
      ...slow.map((s) => follow(s, cookie, null)),
    ]);
    return { tokenDelayMs: summary(delays), notDelivered: ends.filter((s) => s !== "delivered").length };
  };
  const alone = await streamed(false);
  const besideSlowTools = await streamed(true);

  console.log(JSON.stringify({
    rounds: Number(rounds),
    roundsMeasured: added.length,
    roundsNotDelivered: statuses.filter((s) => s !== "delivered").length,
    toolMs: summary(toolMs),
    roundAddedMs: summary(added),
    concurrent: Number(concurrent),
    alone,
    besideSlowTools,
  }));
} finally {
  server.kill("SIGTERM");
  fake.kill("SIGTERM");
}
