// Logs in over and over: first one at a time (how long one login takes, argon2id verify included), then from 50
// concurrent clients for DURATION seconds, while bench/run measures /healthz with wrk. Prints JSON.
import http from "node:http";

const [port, username, password, concurrency = "50", duration = "10"] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(concurrency) + 5 });

function request(method, path, body) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method,
        path,
        agent,
        headers: {
          Origin: `http://127.0.0.1:${port}`,
          Accept: "application/json",
          "Content-Type": "application/x-www-form-urlencoded",
          ...(body ? { "Content-Length": Buffer.byteLength(body) } : {}),
        },
      },
      (res) => {
        let text = "";
        res.on("data", (chunk) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode, text, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
      },
    );
    req.on("error", reject);
    if (body) req.write(body);
    req.end();
  });
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

const page = await request("GET", "/login");
const action = /action="(\/_server\/login[0-9]+)"/.exec(page.text)?.[1];
if (!action) throw new Error("no login form on /login");
const body = `login=${encodeURIComponent(username)}&password=${encodeURIComponent(password)}`;

const single = [];
for (let i = 0; i < 10; i++) {
  const res = await request("POST", action, body);
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
  single.push(res.ms);
}
single.sort((a, b) => a - b);

const deadline = Date.now() + Number(duration) * 1000;
const latencies = [];
let failures = 0;
let refused = 0; // 503: the password-hashing queue was full (accounts::password::Hashing)
await Promise.all(
  Array.from({ length: Number(concurrency) }, async () => {
    while (Date.now() < deadline) {
      const res = await request("POST", action, body);
      if (res.status === 200) latencies.push(res.ms);
      else if (res.status === 503) refused++;
      else failures++;
    }
  }),
);
latencies.sort((a, b) => a - b);
console.log(
  JSON.stringify({
    singleMedianMs: percentile(single, 50),
    concurrentLogins: latencies.length,
    failures,
    refused,
    loginsPerSecond: latencies.length / Number(duration),
    concurrentP50Ms: percentile(latencies, 50),
    concurrentP99Ms: percentile(latencies, 99),
  }),
);
