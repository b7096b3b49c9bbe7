/**
 * End-to-end test of the browser lab (web/): builds it with Vite, serves the build on a free
 * port of 127.0.0.1 (Vite's preview server, with the lab's cross-origin-isolation headers),
 * drives Debian's chromium through playwright-core (headless, --no-sandbox, background
 * networking and the other phone-home features off), runs the quick study (train, then the
 * spectrum of a small Gaussian-mixture MLP), and checks that the spectrum figures hold data:
 * the density figure's data attribute counts every eigenvalue of the model (the exact, dense
 * path: one per parameter) and its SVG has marks; the page logged no console error and threw no
 * page error; a long training run is cancelled and the page goes on working (a second run
 * finishes); the 1-D slice and the batch-size path draw their figures. Saves test-output/lab.png. Skipped, with a message, where /usr/bin/chromium (or
 * CURVLAB_CHROMIUM) is missing. About 20-40 s on 2 cores, most of it the first page load.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build, preview } from "vite";
import { chromium } from "playwright-core";
import { CHROMIUM, CHROMIUM_ARGS, CONFIG, ROOT, freePort, missing } from "./browser-setup.ts";

const OUT = fileURLToPath(new URL("../../test-output", import.meta.url));
const ARGS = [...CHROMIUM_ARGS];



test("browser lab: the quick study draws a spectrum, without console errors", { skip: missing, timeout: 150_000 }, async () => {
  await build({ configFile: CONFIG, root: `${ROOT}/web`, logLevel: "warn" });
  const port = await freePort();
  const server = await preview({ configFile: CONFIG, root: `${ROOT}/web`, logLevel: "warn", preview: { port, strictPort: true, host: "127.0.0.1" } });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 1500 } });
    const errors: string[] = [];
    page.on("console", (m) => { if (m.type() === "error") errors.push(`console: ${m.text()}`); });
    page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
    page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
    // Only the lab's own server: nothing may reach the network.
    await page.route(/^(?!http:\/\/127\.0\.0\.1:)/, (route) => { errors.push(`external request: ${route.request().url()}`); return route.abort(); });

    await page.goto(`http://127.0.0.1:${port}/`);
    const device = page.locator("#device");
    await page.waitForFunction(() => document.querySelector("#device")?.getAttribute("data-device"), null, { timeout: 30_000 });
    const deviceName = await device.getAttribute("data-device");
    assert.ok(deviceName === "wasm" || deviceName === "webgpu", `device shown: ${deviceName}`);
    const parameters = await page.evaluate(() => document.querySelector("#model-spec")?.textContent ?? "");
    const n = Number(/([\d,]+) parameters/.exec(parameters)?.[1]?.replaceAll(",", ""));
    assert.ok(n > 0, `model size shown: ${parameters}`);

    const t0 = performance.now();
    await page.click("#run-quick");
    await page.waitForFunction(() => document.querySelector("#fig-density")?.getAttribute("data-eigenvalues"), null, { timeout: 90_000 });
    const seconds = (performance.now() - t0) / 1000;
    await page.waitForFunction(() => !document.querySelector("#run-quick")?.hasAttribute("disabled"), null, { timeout: 30_000 });

    const density = page.locator("#fig-density");
    assert.equal(Number(await density.getAttribute("data-eigenvalues")), n, "one eigenvalue per parameter (exact spectrum)");
    assert.ok(Number(await density.getAttribute("data-marks")) > 100, "density figure has data rows");
    const paths = await density.locator("svg path").count();
    assert.ok(paths > 5, `density SVG has marks (${paths} paths)`);
    assert.ok(Number(await page.locator("#fig-top").getAttribute("data-marks")) > 0, "top-eigenvalue figure has data");
    assert.ok(Number(await page.locator("#fig-loss").getAttribute("data-marks")) > 2, "loss curve has data");
    const stats = await page.locator("#spectrum-stats .stat").count();
    assert.ok(stats >= 4, "spectrum summary shown");
    const status = await page.locator("#status").textContent();
    assert.match(status ?? "", /done/, `status: ${status}`);

    // Cancel: a long training run stops at the next step, the page stays usable and keeps the
    // model it had (the spectrum figure is still there).
    await page.fill("#epochs", "500");
    await page.click("#run-train");
    await page.waitForFunction(() => /Training — \d+/.test(document.querySelector("#card-train .progress .label")?.textContent ?? ""), null, { timeout: 30_000 });
    await page.click("#cancel");
    await page.waitForFunction(() => !document.querySelector("#run-quick")?.hasAttribute("disabled"), null, { timeout: 30_000 });
    assert.match((await page.locator("#status").textContent()) ?? "", /cancelled/);
    assert.equal(await page.locator("#run-spectrum").isDisabled(), false, "the trained model is kept");
    await page.fill("#epochs", "10");
    await page.click("#run-train");
    await page.waitForFunction(() => /Training: done/.test(document.querySelector("#status")?.textContent ?? ""), null, { timeout: 60_000 });

    // The other two instruments on the trained model: a slice and the batch-size path.
    for (const [button, figure, done] of [["#run-slice", "#fig-slice", /Slice: done/], ["#run-interp", "#fig-path", /Batch path: done/]] as const) {
      await page.click(button);
      await page.waitForFunction((re) => new RegExp(re).test(document.querySelector("#status")?.textContent ?? ""), done.source, { timeout: 60_000 });
      assert.ok(Number(await page.locator(figure).getAttribute("data-marks")) > 10, `${figure} has data`);
    }

    mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: `${OUT}/lab.png`, fullPage: true });
    assert.deepEqual(errors, [], "no console errors, page errors or failed requests");
    console.log(`# lab quick study on ${deviceName}: ${n} parameters, spectrum in ${seconds.toFixed(1)} s`);
  } finally {
    await browser.close();
    await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
  }
});
