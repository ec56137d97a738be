"""The official OpenAI Python SDK against ThiCode's OpenAI-compatible API (issue #30).

Run by tests/it/openai_sdks.rs with THICODE_BASE_URL (…/v1), THICODE_KEY (a personal token), THICODE_EXHAUSTED_KEY
(a token of an account whose daily messages are used up) and THICODE_IMAGE (a PNG data URL). Each check prints one
line `ok <name>`; any failure raises, so the process exits non-zero with the SDK's own traceback.
"""

import os

import openai
from openai import OpenAI

base_url = os.environ["THICODE_BASE_URL"]
client = OpenAI(base_url=base_url, api_key=os.environ["THICODE_KEY"], max_retries=0, timeout=30)
MODEL = "mistral-small-latest"


def ok(name):
    print(f"ok {name}", flush=True)


# Models, as any tool lists them first.
models = client.models.list()
ids = [m.id for m in models.data]
assert MODEL in ids, ids
assert client.models.retrieve(MODEL).id == MODEL
ok("models")

# A whole completion, with OpenAI-only fields the translation must drop (`store`, `user`, `max_completion_tokens`,
# `name` on a message, `developer` role): the strict fake provider refuses any of them.
done = client.chat.completions.create(
    model=MODEL,
    messages=[
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": "Hello from Python", "name": "ada"},
    ],
    max_completion_tokens=50,
    seed=1,
    temperature=0.3,
    store=False,
    user="python-sdk",
)
assert done.object == "chat.completion", done
assert done.choices[0].message.role == "assistant"
assert "Hello from Python" in done.choices[0].message.content, done
assert done.choices[0].finish_reason == "stop"
assert done.usage.total_tokens == done.usage.prompt_tokens + done.usage.completion_tokens > 0
ok("completion")

# Streamed, with the usage chunk.
text, usage, finish = "", None, None
with client.chat.completions.create(
    model=MODEL,
    messages=[{"role": "user", "content": "Stream to Python"}],
    stream=True,
    stream_options={"include_usage": True},
) as stream:
    for chunk in stream:
        if chunk.usage:
            usage = chunk.usage
        for choice in chunk.choices:
            text += choice.delta.content or ""
            finish = choice.finish_reason or finish
assert "Stream to Python" in text, text
assert finish == "stop"
assert usage is not None and usage.completion_tokens > 0, usage
ok("stream")

# The SDK's own stream helper puts the pieces together.
with client.chat.completions.stream(model=MODEL, messages=[{"role": "user", "content": "Helper"}]) as stream:
    final = stream.get_final_completion()
assert "Helper" in final.choices[0].message.content
ok("stream-helper")

# A tool call round trip: the model calls, the client runs the function, the model answers from its result.
tools = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather of a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            "strict": True,
        },
    }
]
messages = [{"role": "user", "content": 'Weather in Oslo? [fake:call=get_weather {"city": "Oslo"}]'}]
first = client.chat.completions.create(model=MODEL, messages=messages, tools=tools, tool_choice="auto")
call = first.choices[0].message.tool_calls[0]
assert first.choices[0].finish_reason == "tool_calls", first
assert call.function.name == "get_weather" and "Oslo" in call.function.arguments
messages.append(first.choices[0].message.model_dump(exclude_none=True))
messages.append({"role": "tool", "tool_call_id": call.id, "content": '{"celsius": -3}'})
second = client.chat.completions.create(model=MODEL, messages=messages, tools=tools)
assert "-3" in second.choices[0].message.content, second
ok("tools")

# An image part.
seen = client.chat.completions.create(
    model=MODEL,
    messages=[
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in this picture?"},
                {"type": "image_url", "image_url": {"url": os.environ["THICODE_IMAGE"], "detail": "low"}},
            ],
        }
    ],
)
assert "[saw 1 image(s)]" in seen.choices[0].message.content, seen
ok("image")

# Embeddings: the SDK asks for base64 and decodes it.
vectors = client.embeddings.create(model="mistral-embed", input=["a cat", "a dog"])
assert len(vectors.data) == 2 and len(vectors.data[0].embedding) == 64, vectors
assert abs(sum(x * x for x in vectors.data[0].embedding) - 1.0) < 1e-3
floats = client.embeddings.create(model="mistral-embed", input="a cat", encoding_format="float")
assert all(abs(a - b) < 1e-6 for a, b in zip(floats.data[0].embedding, vectors.data[0].embedding))
ok("embeddings")

# Errors, as the SDK's own exceptions.
try:
    OpenAI(base_url=base_url, api_key="thc_not-a-key", max_retries=0).models.list()
    raise AssertionError("a bad key was accepted")
except openai.AuthenticationError as e:
    assert e.status_code == 401 and e.code == "invalid_api_key", e
ok("authentication-error")

try:
    client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}], temperature=7)
    raise AssertionError("a bad temperature was accepted")
except openai.BadRequestError as e:
    assert e.status_code == 400 and e.param == "temperature", e
ok("bad-request-error")

try:
    client.chat.completions.create(model="gpt-nonexistent", messages=[{"role": "user", "content": "x"}])
    raise AssertionError("an unknown model was accepted")
except openai.NotFoundError as e:
    assert e.code == "model_not_found", e
ok("not-found-error")

exhausted = OpenAI(base_url=base_url, api_key=os.environ["THICODE_EXHAUSTED_KEY"], timeout=30)
try:
    # The SDK's default retries: the answer tells it not to retry a quota that resets in hours.
    exhausted.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}])
    raise AssertionError("an exhausted quota was not reported")
except openai.RateLimitError as e:
    assert e.status_code == 429 and e.code == "insufficient_quota", e
    assert int(e.response.headers["retry-after"]) > 60
ok("rate-limit-error")
