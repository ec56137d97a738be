// A login burst from many client addresses: CLIENTS clients, each bound to its own loopback address (127.0.1.1,
// 127.0.1.2, …: the whole 127.0.0.0/8 is this machine), sending failed logins to the REST API with a new unknown
// username each time (so neither the per-account nor, for the first twenty, the per-address throttle refuses them
// before the password is checked), for DURATION seconds:
//   waves — CLIENTS logins at once, the next wave when every answer of this one is in (CLIENTS concurrent logins,
//           over and over);
//   flood — every client sends its next login as soon as it has an answer, whatever it was (a hostile loop: a
//           refusal comes back at once, so this is thousands of requests a second).
// Meanwhile the server's resident memory is read from /proc every 20 ms; after the burst it is read for SETTLE more
// seconds. Prints JSON.
//   node bench/login-burst.mjs PORT PID [CLIENTS=300] [DURATION=10] [SETTLE=10] [MODE=waves]
import http from "node:http";
import { readFileSync } from "node:fs";

const [port, pid, clients = "300", duration = "10", settle = "10", mode = "waves"] = process.argv.slice(2);

const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024;
const samples = [];
const started = Date.now();
const sampler = setInterval(() => samples.push([Date.now() - started, rssMb()]), 20);

function login(localAddress, n) {
  const body = JSON.stringify({ username: `burst-${localAddress}-${n}`, password: "wrong-password-123" });
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        localAddress,
        method: "POST",
        path: "/api/accounts/api/login/",
        agent: false,
        headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode));
      },
    );
    req.on("error", () => resolve("error"));
    req.end(body);
  });
}

const before = rssMb();
const statuses = {};
const deadline = started + Number(duration) * 1000;
const address = (i) => `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
const count = (status) => (statuses[status] = (statuses[status] ?? 0) + 1);
let waves = 0;
if (mode === "flood") {
  await Promise.all(
    Array.from({ length: Number(clients) }, async (_, i) => {
      for (let n = 0; Date.now() < deadline; n++) count(await login(address(i), n));
    }),
  );
} else {
  for (let n = 0; Date.now() < deadline; n++) {
    const answers = await Promise.all(Array.from({ length: Number(clients) }, (_, i) => login(address(i), n)));
    answers.forEach(count);
    waves++;
  }
}
const burstEnded = Date.now() - started;
await new Promise((resolve) => setTimeout(resolve, Number(settle) * 1000));
clearInterval(sampler);

const during = samples.filter(([t]) => t <= burstEnded).map(([, mb]) => mb);
const after = samples.filter(([t]) => t > burstEnded);
const backUnder40 = after.find(([, mb]) => mb < 40);
console.log(
  JSON.stringify({
    clients: Number(clients),
    mode,
    waves,
    durationSeconds: Number(duration),
    statuses,
    rssBeforeMb: before,
    rssPeakMb: Math.max(...during, ...after.map(([, mb]) => mb)),
    rssAtEndOfBurstMb: during.at(-1),
    msUntilUnder40Mb: backUnder40 ? backUnder40[0] - burstEnded : null,
    rssAfterSettleMb: after.at(-1)?.[1],
  }),
);
