import { expect, test } from "@playwright/test";
import { PASSWORD, fitsAndAxeCleanAtBothSizes, hydrated, watch } from "./support";

// The OpenAI-compatible API (issue #30) as a person meets it: a token limited to /v1/ made on the tokens page, used by
// a script as an OpenAI key, and staff choosing the models it offers, then turning it off — all without a reload.

test("a /v1/-only token from the tokens page works as an OpenAI key; staff limit the models and turn it off", async ({
  page,
  playwright,
  baseURL,
}) => {
  // The bad model list below is refused with a 400 on purpose; the browser logs that answer.
  const w = watch(page, [/status of 400 \(Bad Request\)/]);
  await page.goto("/login?next=/settings/tokens");
  await hydrated(page);
  await page.getByLabel("Username or email").fill("ada");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL("/settings/tokens");
  await hydrated(page);
  await expect(page.getByTestId("v1-base-url")).toHaveText(/^https?:\/\/.+\/v1$/);
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 1));

  await page.getByLabel("Name (what uses it)").fill("editor");
  await page.getByLabel("May call").selectOption("v1");
  await page.getByRole("button", { name: "Create token" }).click();
  const key = (await page.getByTestId("new-key").textContent()) ?? "";
  expect(key).toMatch(/^thc_/);
  const row = page.locator("table.tokens tr", { hasText: "editor" });
  await expect(row).toContainText("/v1/ only");
  expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker), "no reload").toBe(1);
  await fitsAndAxeCleanAtBothSizes(page, "tokens page with a /v1/ token");

  // A script holding the key: OpenAI's routes answer; the account's REST API does not.
  const script = await playwright.request.newContext({ baseURL });
  const auth = { Authorization: `Bearer ${key}` };
  const models = await script.get("/v1/models", { headers: auth });
  expect(models.status()).toBe(200);
  expect((await models.json()).data.map((m: { id: string }) => m.id)).toContain("mistral-small-latest");
  const done = await script.post("/v1/chat/completions", {
    headers: auth,
    data: { model: "mistral-small-latest", messages: [{ role: "user", content: "Hi from a script" }] },
  });
  expect(done.status()).toBe(200);
  expect((await done.json()).choices[0].message.content).toContain("Hi from a script");
  expect((await script.get("/api/chat/conversations/", { headers: auth })).status()).toBe(403);

  // Staff offer one model only, then turn the API off, on the settings page (hydrated: no reload).
  await page.goto("/admin/settings");
  await hydrated(page);
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 2));
  await page.getByTestId("openai-api-models").fill("codestral-latest, model!");
  await page.getByTestId("save-openai-api").click();
  await expect(page.locator("#openai-api-models-errors")).toContainText("model!");
  await fitsAndAxeCleanAtBothSizes(page, "admin settings with a bad model list");
  await page.getByTestId("openai-api-models").fill("codestral-latest");
  await page.getByTestId("save-openai-api").click();
  await expect(page.getByRole("status")).toContainText("Saved");
  const only = await (await script.get("/v1/models", { headers: auth })).json();
  expect(only.data.map((m: { id: string }) => m.id)).toEqual(["codestral-latest"]);
  await page.getByTestId("openai-api-enabled").uncheck();
  await page.getByTestId("save-openai-api").click();
  await expect(page.getByTestId("openai-api-enabled")).not.toBeChecked();
  await expect.poll(async () => (await script.get("/v1/models", { headers: auth })).status()).toBe(403);
  await fitsAndAxeCleanAtBothSizes(page, "admin settings with the API off");

  // Back as it was, for the other tests.
  await page.getByTestId("openai-api-enabled").check();
  await page.getByTestId("openai-api-models").fill("");
  await page.getByTestId("save-openai-api").click();
  await expect.poll(async () => (await script.get("/v1/models", { headers: auth })).status()).toBe(200);
  await expect(page.getByTestId("openai-api-models")).toHaveValue("");
  expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker), "no reload").toBe(2);
  await script.dispose();
  expect(w.errors).toEqual([]);
});
