import { expect, test } from "@playwright/test";
import { PASSWORD } from "./support";

// The same without JavaScript: plain form posts make a /v1/-only token and change the API's setting.

test("without JavaScript: a /v1/-only token is made and staff set the models the API offers", async ({
  page,
  playwright,
  baseURL,
}) => {
  await page.goto("/login?next=/settings/tokens");
  await page.getByLabel("Username or email").fill("ada");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL("/settings/tokens");
  await page.getByLabel("Name (what uses it)").fill("agent, no js");
  await page.getByLabel("May call").selectOption("v1");
  await page.getByRole("button", { name: "Create token" }).click();
  const key = (await page.getByTestId("new-key").textContent()) ?? "";
  expect(key).toMatch(/^thc_/);
  await expect(page.locator("table.tokens tr", { hasText: "agent, no js" })).toContainText("/v1/ only");
  // On a phone, nothing is wider than the screen (no script runs here: measured from the layout boxes).
  await page.setViewportSize({ width: 390, height: 844 });
  for (const part of [page.locator("table.tokens"), page.getByLabel("May call"), page.getByTestId("v1-base-url")]) {
    const box = await part.boundingBox();
    expect(box && box.x + box.width, "fits a 390 px screen").toBeLessThanOrEqual(390);
  }

  const script = await playwright.request.newContext({ baseURL });
  const auth = { Authorization: `Bearer ${key}` };
  await page.goto("/admin/settings");
  await page.getByTestId("openai-api-models").fill("mistral-large-latest");
  await page.getByTestId("save-openai-api").click();
  await expect(page).toHaveURL("/admin/settings?saved=1");
  await expect(page.getByTestId("openai-api-models")).toHaveValue("mistral-large-latest");
  const only = await (await script.get("/v1/models", { headers: auth })).json();
  expect(only.data.map((m: { id: string }) => m.id)).toEqual(["mistral-large-latest"]);
  await page.getByTestId("openai-api-models").fill("");
  await page.getByTestId("save-openai-api").click();
  await expect(page.getByTestId("openai-api-models")).toHaveValue("");
  expect((await (await script.get("/v1/models", { headers: auth })).json()).data.length).toBeGreaterThan(1);
  await script.dispose();
});
