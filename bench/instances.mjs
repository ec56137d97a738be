// Two instances behind one PostgreSQL database (#25): replies are started on instance A and each is followed over
// Server-Sent Events on A (the instance writing it) and on B (another instance, which learns of the text through
// PostgreSQL's LISTEN/NOTIFY, or by reading the database). The fake stamps every token with the microsecond it sent
// it, so each token's delay (fake → reader) is measured on both, and the delay B adds over A for the same token.
// Prints JSON.  node bench/instances.mjs BINARY PORT_A PORT_B FAKE_PORT DATABASE_URL [STREAMS] [TPS] [TOKENS]
import { execFileSync, spawn } from "node:child_process";
import http from "node:http";
import path from "node:path";

const [binary, portA, portB, fakePort, databaseUrl, streams = "20", tps = "20", tokens = "100"] = process.argv.slice(2);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 * Number(streams) + 20 });
const env = (port) => ({
  PATH: process.env.PATH,
  THICODE_CONFIG: path.join(root, "Leptos.toml"),
  LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
  LEPTOS_SITE_ROOT: path.join(root, "target", "site"),
  DATABASE_URL: databaseUrl,
  SECRET_KEY: "bench-secret-bench-secret-bench-secret-0123",
  MISTRAL_API_KEY: "fake-key",
  MISTRAL_BASE_URL: `http://127.0.0.1:${fakePort}`,
  RATE_LIMIT_MESSAGES_PER_MINUTE: "0",
  RATE_LIMIT_MESSAGES_PER_DAY: "0",
  RUST_LOG: "error",
});

function request(port, method, urlPath, { body, cookie } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1", port, method, path: urlPath, agent,
        headers: {
          Origin: `http://127.0.0.1:${port}`,
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

/** Follows a reply's events on `port`; resolves with a map stamp → delay (ms) of each token read there, and when
 * the follower had its first answer (µs). */
function follow(port, sent, cookie) {
  return new Promise((resolve) => {
    const delays = new Map();
    delays.joined = Infinity;
    const req = http.get(
      { host: "127.0.0.1", port, agent, path: `/chat/${sent.conversation_id}/messages/${sent.assistant_message_id}/events`, headers: { Cookie: cookie } },
      (res) => {
        let buffer = "";
        delays.joined = nowMicros();
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
              for (const m of JSON.parse(data).text.matchAll(/@(\d+)/g)) delays.set(m[1], (at - Number(m[1])) / 1000);
            } else if (event === "done") {
              req.destroy();
              resolve(delays);
            }
          }
        });
        res.on("end", () => resolve(delays));
      },
    );
    req.on("error", () => resolve(delays));
  });
}

const fake = spawn(binary, ["fake-mistral", "--addr", `127.0.0.1:${fakePort}`, "--tokens-per-second", tps], { stdio: "ignore" });
execFileSync(binary, ["createsuperuser", "--noinput", "--username", "bench", "--email", "bench@example.com"], {
  env: { ...env(portA), THICODE_SUPERUSER_PASSWORD: "Bench-Password-2026" }, stdio: "ignore",
});
const a = spawn(binary, ["serve"], { env: env(portA), stdio: "ignore" });
const b = spawn(binary, ["serve"], { env: env(portB), stdio: "ignore" });
try {
  await waitFor(`http://127.0.0.1:${fakePort}/_fake/requests`);
  await waitFor(`http://127.0.0.1:${portA}/healthz`);
  await waitFor(`http://127.0.0.1:${portB}/healthz`);
  await sleep(500); // B's LISTEN is up
  const loginPage = await request(portA, "GET", "/login");
  const loginPath = /action="(\/_server\/login[0-9]+)"/.exec(loginPage.text)[1];
  const login = await request(portA, "POST", loginPath, { body: "login=bench&password=Bench-Password-2026" });
  const cookie = [].concat(login.headers["set-cookie"]).find((c) => c.startsWith("sessionid=")).split(";")[0];
  const chatPage = await request(portA, "GET", "/chat", { cookie });
  const sendPath = /action="(\/_server\/send_message[0-9]+)"/.exec(chatPage.text)[1];
  const prompt = encodeURIComponent(`[fake:stamp] [fake:tokens=${tokens}] benchmark`);
  const sends = await Promise.all(
    Array.from({ length: Number(streams) }, () => request(portA, "POST", sendPath, { body: `content=${prompt}`, cookie })),
  );
  const followed = await Promise.all(
    sends.filter((s) => s.status === 200).map((s) => {
      const sent = JSON.parse(s.text);
      return Promise.all([follow(portA, sent, cookie), follow(portB, sent, cookie)]);
    }),
  );
  // `steady`: the tokens sent after both followers were connected (the catching up of a follower that joins late
  // is left out).
  const local = [], other = [], added = [], steady = [];
  for (const [onA, onB] of followed) {
    const joined = Math.max(onA.joined, onB.joined);
    for (const [stamp, delay] of onB) {
      other.push(delay);
      if (onA.has(stamp)) {
        added.push(delay - onA.get(stamp));
        if (Number(stamp) > joined) steady.push(delay - onA.get(stamp));
      }
    }
    for (const delay of onA.values()) local.push(delay);
  }
  for (const list of [local, other, added, steady]) list.sort((x, y) => x - y);
  console.log(JSON.stringify({
    streams: Number(streams), tps: Number(tps), tokens: Number(tokens),
    sendFailures: sends.filter((s) => s.status !== 200).length,
    tokensOnA: local.length, tokensOnB: other.length,
    localP50Ms: percentile(local, 50), localP99Ms: percentile(local, 99),
    otherP50Ms: percentile(other, 50), otherP99Ms: percentile(other, 99),
    addedP50Ms: percentile(added, 50), addedP99Ms: percentile(added, 99), addedMaxMs: added[added.length - 1],
    steadyTokens: steady.length, steadyAddedP50Ms: percentile(steady, 50), steadyAddedP99Ms: percentile(steady, 99),
  }));
} finally {
  a.kill("SIGTERM");
  b.kill("SIGTERM");
  fake.kill("SIGTERM");
}
