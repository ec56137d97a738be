// The official OpenAI Node SDK against ThiCode's OpenAI-compatible API (issue #30).
//
// Run by tests/it/openai_sdks.rs with TEST_OPENAI_NODE (the folder the SDK is installed in), THICODE_BASE_URL
// (…/v1), THICODE_KEY, THICODE_EXHAUSTED_KEY and THICODE_IMAGE, as the Python client is. Each check prints
// `ok <name>`; a failure throws, so the process exits non-zero.
import assert from "node:assert/strict";
import { createRequire } from "node:module";

const require = createRequire(`${process.env.TEST_OPENAI_NODE}/`);
const OpenAI = require("openai").default ?? require("openai");

const baseURL = process.env.THICODE_BASE_URL;
const client = new OpenAI({ baseURL, apiKey: process.env.THICODE_KEY, maxRetries: 0, timeout: 30_000 });
const MODEL = "mistral-small-latest";
const ok = (name) => console.log(`ok ${name}`);

const ids = [];
for await (const model of client.models.list()) ids.push(model.id);
assert.ok(ids.includes(MODEL), ids.join(","));
ok("models");

const done = await client.chat.completions.create({
  model: MODEL,
  messages: [
    { role: "developer", content: "Be brief." },
    { role: "user", content: "Hello from Node", name: "ada" },
  ],
  max_completion_tokens: 50,
  seed: 2,
  store: false,
  metadata: { thicode_save: "true" },
});
assert.equal(done.object, "chat.completion");
assert.match(done.choices[0].message.content, /Hello from Node/);
assert.equal(done.usage.total_tokens, done.usage.prompt_tokens + done.usage.completion_tokens);
ok("completion");

let text = "";
let usage = null;
const stream = await client.chat.completions.create({
  model: MODEL,
  messages: [{ role: "user", content: "Stream to Node" }],
  stream: true,
  stream_options: { include_usage: true },
});
for await (const chunk of stream) {
  if (chunk.usage) usage = chunk.usage;
  for (const choice of chunk.choices) text += choice.delta.content ?? "";
}
assert.match(text, /Stream to Node/);
assert.ok(usage && usage.completion_tokens > 0);
ok("stream");

// The SDK's runner executes the tool and sends its result back by itself.
const runner = client.chat.completions.runTools({
  model: MODEL,
  messages: [{ role: "user", content: 'Weather in Rome? [fake:call=get_weather {"city": "Rome"}]' }],
  tools: [
    {
      type: "function",
      function: {
        name: "get_weather",
        description: "Current weather of a city",
        parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
        function: (args) => ({ city: args.city, celsius: 24 }),
        parse: JSON.parse,
      },
    },
  ],
});
const answer = await runner.finalContent();
assert.match(answer, /24/);
ok("tools");

const seen = await client.chat.completions.create({
  model: MODEL,
  messages: [
    {
      role: "user",
      content: [
        { type: "text", text: "Describe it" },
        { type: "image_url", image_url: { url: process.env.THICODE_IMAGE } },
      ],
    },
  ],
});
assert.match(seen.choices[0].message.content, /\[saw 1 image\(s\)\]/);
ok("image");

const vectors = await client.embeddings.create({ model: "mistral-embed", input: ["a cat", "a dog"] });
assert.equal(vectors.data.length, 2);
assert.equal(vectors.data[1].embedding.length, 64);
ok("embeddings");

await assert.rejects(
  new OpenAI({ baseURL, apiKey: "thc_wrong", maxRetries: 0 }).models.list(),
  (e) => e instanceof OpenAI.AuthenticationError && e.status === 401,
);
ok("authentication-error");

await assert.rejects(
  client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "x" }], n: 3 }),
  (e) => e instanceof OpenAI.BadRequestError && e.param === "n",
);
ok("bad-request-error");

await assert.rejects(
  new OpenAI({ baseURL, apiKey: process.env.THICODE_EXHAUSTED_KEY, timeout: 30_000 }).chat.completions.create({
    model: MODEL,
    messages: [{ role: "user", content: "x" }],
  }),
  (e) => e instanceof OpenAI.RateLimitError && e.status === 429 && e.code === "insufficient_quota",
);
ok("rate-limit-error");
