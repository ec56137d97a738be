// Files benchmark (issue #26) against the release server and the fake Mistral server on loopback:
//  1. a 20 MB upload (text), sent in 64 KB pieces: the server's RSS sampled every 5 ms, its growth over the idle RSS
//     before (the body is streamed to a spool file, never held by the HTTP layer);
//  2. a 100-page text PDF: the time of its upload's answer (extraction, chunking, the full-text index, storage);
//  3. the delay ThiCode adds to each streamed token of 50 concurrent replies, alone and while ten such PDFs upload
//     (the uploads run on the low-priority worker threads, not the async ones).
// Prints JSON.  node bench/files.mjs BINARY PORT FAKE_PORT WORK
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";

const [binary, port, fakePort, work] = process.argv.slice(2);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const origin = `http://127.0.0.1:${port}`;
const agent = new http.Agent({ keepAlive: true, maxSockets: 200 });
const env = {
  PATH: process.env.PATH,
  THICODE_CONFIG: path.join(root, "Leptos.toml"),
  LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
  LEPTOS_SITE_ROOT: path.join(root, "target", "site"),
  DATABASE_URL: `sqlite://${work}/files-bench.db`,
  FILES_DIR: path.join(work, "files"),
  MISTRAL_API_KEY: "fake-key",
  MISTRAL_BASE_URL: `http://127.0.0.1:${fakePort}`,
  RATE_LIMIT_MESSAGES_PER_MINUTE: "0",
  RATE_LIMIT_MESSAGES_PER_DAY: "0",
  MAX_FILE_STORAGE_PER_USER: "0",
  RUST_LOG: "error",
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const nowMicros = () => (performance.timeOrigin + performance.now()) * 1000;
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** A request; `body` is a string, or a list of Buffers written one after the other (a streamed body). */
function request(method, urlPath, { body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const pieces = body === undefined ? [] : Array.isArray(body) ? body : [Buffer.from(body)];
    const length = pieces.reduce((n, p) => n + p.length, 0);
    const req = http.request(
      { host: "127.0.0.1", port, method, path: urlPath, agent, headers: { Origin: origin, ...headers, ...(length ? { "Content-Length": length } : {}) } },
      (res) => {
        let text = "";
        res.on("data", (c) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, text, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
      },
    );
    req.on("error", reject);
    (async () => {
      for (const piece of pieces) {
        if (!req.write(piece)) await new Promise((r) => req.once("drain", r));
      }
      req.end();
    })();
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

/** A PDF of `pages` pages of `lines` lines of prose each (Helvetica, text layer). */
function pdf(pages, lines) {
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    `<< /Type /Pages /Kids [${Array.from({ length: pages }, (_, k) => `${4 + 2 * k} 0 R`).join(" ")}] /Count ${pages} >>`,
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
  ];
  const topics = ["budget", "hiring", "travel", "office", "training", "supplies", "research", "support"];
  for (let k = 0; k < pages; k++) {
    const shown = Array.from({ length: lines }, (_, l) =>
      `(Section ${k + 1}.${l} reviews the quarterly ${topics[(k + l) % topics.length]} figures of the regional teams.) Tj T*`).join(" ");
    const stream = `BT /F1 10 Tf 12 TL 40 760 Td ${shown} ET`;
    objects.push(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents ${5 + 2 * k} 0 R /Resources << /Font << /F1 3 0 R >> >> >>`);
    objects.push(`<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`);
  }
  let out = "%PDF-1.4\n";
  const offsets = [];
  objects.forEach((o, i) => { offsets.push(out.length); out += `${i + 1} 0 obj\n${o}\nendobj\n`; });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, "0")} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, "latin1");
}

const boundary = "thicode-bench-boundary";
/** A multipart body with one file, as a list of pieces of at most 64 KB. */
function multipart(name, type, bytes) {
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: ${type}\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const pieces = [head];
  for (let i = 0; i < bytes.length; i += 65536) pieces.push(bytes.subarray(i, i + 65536));
  pieces.push(tail);
  return pieces;
}

const fake = spawn(binary, ["fake-mistral", "--addr", `127.0.0.1:${fakePort}`, "--tokens-per-second", "20"], { stdio: "ignore" });
execFileSync(binary, ["createsuperuser", "--noinput", "--username", "bench", "--email", "bench@example.com"], {
  env: { ...env, THICODE_SUPERUSER_PASSWORD: "Bench-Password-2026" }, stdio: "ignore",
});
const server = spawn(binary, ["serve"], { env, stdio: "ignore" });
const rssKb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, "utf8"))[1]);
try {
  await waitFor(`http://127.0.0.1:${fakePort}/_fake/requests`);
  await waitFor(`${origin}/healthz`);
  const loginPage = await request("GET", "/login");
  const csrf = [].concat(loginPage.headers["set-cookie"]).find((c) => c.startsWith("csrftoken=")).split(";")[0];
  const loginPath = /action="(\/_server\/login[0-9]+)"/.exec(loginPage.text)[1];
  const login = await request("POST", loginPath, {
    body: "login=bench&password=Bench-Password-2026",
    headers: { Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded", Cookie: csrf },
  });
  const session = [].concat(login.headers["set-cookie"]).find((c) => c.startsWith("sessionid=")).split(";")[0];
  const cookie = `${session}; ${csrf}`;
  // An upload as a client should make it: a 503 (every file worker and its queue busy) is tried again after its
  // Retry-After; the time is the whole wait.
  const upload = async (name, type, bytes) => {
    const started = performance.now();
    for (;;) {
      const answer = await request("POST", "/api/files/", {
        body: multipart(name, type, bytes),
        headers: { Cookie: cookie, "X-CSRFToken": csrf.split("=")[1], "Content-Type": `multipart/form-data; boundary=${boundary}`, Accept: "application/json" },
      });
      if (answer.status !== 503) return { ...answer, ms: performance.now() - started };
      retries += 1;
      await sleep(Number(answer.headers["retry-after"] ?? 1) * 1000);
    }
  };
  let retries = 0;
  const chatPage = await request("GET", "/chat", { headers: { Cookie: cookie } });
  const sendPath = /action="(\/_server\/send_message[0-9]+)"/.exec(chatPage.text)[1];

  // Warm up (the first upload creates the spool folder, the worker threads, the database's pages).
  await upload("warm.txt", "text/plain", Buffer.from("warm up ".repeat(1000)));
  await sleep(500);

  // 1. A 20 MB upload.
  const words = "the quick brown fox jumps over the lazy dog while the committee reviews its annual figures\n";
  const big = Buffer.from(words.repeat(Math.ceil((20 << 20) / words.length))).subarray(0, 20 << 20);
  const idleRssKb = rssKb();
  let peakRssKb = idleRssKb;
  const sampler = setInterval(() => { peakRssKb = Math.max(peakRssKb, rssKb()); }, 5);
  const bigUpload = await upload("twenty.txt", "text/plain", big);
  clearInterval(sampler);
  if (bigUpload.status !== 201) throw new Error(`20 MB upload: ${bigUpload.status} ${bigUpload.text}`);

  // 2. A 100-page text PDF.
  const report = pdf(100, 45);
  const pdfTimes = [];
  for (let i = 0; i < 3; i++) {
    const answer = await upload(`report-${i}.pdf`, "application/pdf", report);
    if (answer.status !== 201) throw new Error(`PDF upload: ${answer.status} ${answer.text}`);
    pdfTimes.push(answer.ms);
  }
  pdfTimes.sort((a, b) => a - b);

  // 3. 50 concurrent replies, alone, then during ten PDF uploads.
  async function replies(count) {
    const prompt = encodeURIComponent("[fake:stamp] [fake:tokens=60] benchmark");
    const sends = await Promise.all(Array.from({ length: count }, () => request("POST", sendPath, {
      body: `content=${prompt}`,
      headers: { Cookie: cookie, Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded" },
    })));
    const delays = [];
    await Promise.all(sends.filter((s) => s.status === 200).map((s) => new Promise((resolve) => {
      const sent = JSON.parse(s.text);
      const req = http.get({ host: "127.0.0.1", port, agent, path: `/chat/${sent.conversation_id}/messages/${sent.assistant_message_id}/events`, headers: { Cookie: cookie } }, (res) => {
        let buffer = "";
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
            if (event === "delta") for (const m of JSON.parse(data).text.matchAll(/@(\d+)/g)) delays.push((at - Number(m[1])) / 1000);
            else if (event === "done") { req.destroy(); resolve(); }
          }
        });
        res.on("end", resolve);
      });
      req.on("error", resolve);
    })));
    delays.sort((a, b) => a - b);
    return { failures: sends.filter((s) => s.status !== 200).length, tokens: delays.length, p50: percentile(delays, 50), p99: percentile(delays, 99), max: delays[delays.length - 1] };
  }
  const alone = await replies(50);
  let uploadsDone = 0;
  const uploadTimes = [];
  const uploads = Promise.all(Array.from({ length: 10 }, async (_, i) => {
    const answer = await upload(`during-${i}.pdf`, "application/pdf", report);
    uploadTimes.push(answer.ms);
    if (answer.status === 201) uploadsDone += 1;
  }));
  const during = await replies(50);
  await uploads;
  uploadTimes.sort((a, b) => a - b);

  console.log(JSON.stringify({
    upload20MB: { status: bigUpload.status, ms: Math.round(bigUpload.ms), idleRssMB: +(idleRssKb / 1024).toFixed(1), peakRssMB: +(peakRssKb / 1024).toFixed(1), growthMB: +((peakRssKb - idleRssKb) / 1024).toFixed(1) },
    pdf100Pages: { bytes: report.length, medianMs: Math.round(pdfTimes[1]), maxMs: Math.round(pdfTimes[2]) },
    replies50Alone: alone,
    replies50During10Uploads: { ...during, uploadsDone, retriesAfter503: retries, uploadP50Ms: Math.round(percentile(uploadTimes, 50)), uploadMaxMs: Math.round(uploadTimes[uploadTimes.length - 1]) },
  }));
} finally {
  server.kill("SIGTERM");
  fake.kill("SIGTERM");
}
