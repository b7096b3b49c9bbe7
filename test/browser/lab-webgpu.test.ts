/**
 * The browser lab's WebGPU path against its Wasm path, in headless chromium: the same quick study
 * (train, then the exact spectrum of the small Gaussian-mixture MLP) with ?device=webgpu and with
 * ?device=wasm, and the numbers compared. Chromium needs --enable-unsafe-webgpu for WebGPU on
 * Linux; headless, with no GPU, it then answers with its SwiftShader adapter (vendor "google",
 * architecture "swiftshader"). The numbers are read from the compute worker's messages (a wrapper
 * around the page's Worker, installed before the page's scripts run), not from the rounded text.
 *
 * Compared (tolerances: ~20x the measured differences; see LOSS_BOUND): about 40 s on webgpu
 * (software) and 12 s on wasm on 2 cores.
 * - training (float32 on both devices): the train loss at every evaluation;
 * - the exact Hessian spectrum (webgpu float32, wasm float64) of the trained model: every
 *   eigenvalue on the scale of max |lambda|, which carries the float32 rounding of the dense
 *   matrix (entries within ~4e-7 of max |H|, test/webgpu/operators.test.ts) and of training.
 * Skipped where chromium is missing (required with CURVLAB_REQUIRE_BROWSER=1) or where its WebGPU
 * gives no adapter (required with CURVLAB_REQUIRE_WEBGPU=1); CI sets both.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { build, preview } from "vite";
import { chromium, type Browser } from "playwright-core";
import { CHROMIUM, CHROMIUM_ARGS, CONFIG, ROOT, freePort, missing } from "./browser-setup.ts";

const ARGS = [...CHROMIUM_ARGS, "--enable-unsafe-webgpu"];
/**
 * Bounds: measured differences x ~20. Measured (chromium 156, SwiftShader, 244 parameters): train
 * losses 1.6e-6 relative (float32 on both: summation orders differ), eigenvalues 9.3e-8 of
 * max |lambda| (float32 dense matrix against float64, after float32 training on both).
 */
const LOSS_BOUND = 3e-5;
const SPECTRUM_BOUND = 2e-6;



interface Run {
  readonly device: string;
  readonly adapter: string | null;
  readonly fallback: string | null;
  readonly losses: number[];
  readonly eigenvalues: number[];
  readonly dtype: string;
  readonly seconds: number;
}

/** Runs the quick study with ?device=..., returning the worker's numbers. */
async function quickStudy(browser: Browser, url: string, errors: string[]): Promise<Run> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1200 } });
  page.on("console", (m) => { if (m.type() === "error") errors.push(`console: ${m.text()}`); });
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  await page.route(/^(?!http:\/\/127\.0\.0\.1:)/, (route) => { errors.push(`external request: ${route.request().url()}`); return route.abort(); });
  // Record every message of the compute worker (structured clones of the job outputs).
  await page.addInitScript(() => {
    const w = window as unknown as { __labMessages: unknown[]; Worker: typeof Worker };
    w.__labMessages = [];
    const Original = w.Worker;
    w.Worker = class extends Original {
      constructor(url: string | URL, opts?: WorkerOptions) {
        super(url, opts);
        this.addEventListener("message", (e) => w.__labMessages.push((e as MessageEvent).data));
      }
    };
  });
  try {
    await page.goto(url);
    await page.waitForFunction(() => document.querySelector("#device")?.getAttribute("data-device"), null, { timeout: 60_000 });
    const t0 = performance.now();
    await page.click("#run-quick");
    await page.waitForFunction(() => document.querySelector("#fig-density")?.getAttribute("data-eigenvalues"), null, { timeout: 600_000 });
    const seconds = (performance.now() - t0) / 1000;
    return await page.evaluate((secs) => {
      type Msg = { type: string; device?: { device: string; adapter?: string; fallback?: string }; output?: Record<string, unknown> };
      const msgs = (window as unknown as { __labMessages: Msg[] }).__labMessages;
      const ready = msgs.find((m) => m.type === "ready")!.device!;
      const outs = msgs.filter((m) => m.type === "done").map((m) => m.output!);
      const tr = outs.find((o) => o.kind === "train") as { history: { trainLoss: number }[] };
      const sp = outs.find((o) => o.kind === "spectrum") as { dtype: string; spectra: { eigenvalues: ArrayLike<number> }[] };
      return {
        device: ready.device, adapter: ready.adapter ?? null, fallback: ready.fallback ?? null,
        losses: tr.history.map((h) => h.trainLoss), eigenvalues: Array.from(sp.spectra[0].eigenvalues), dtype: sp.dtype, seconds: secs,
      };
    }, seconds);
  } finally {
    await page.close();
  }
}

test("browser lab: the quick study on WebGPU gives the numbers of its Wasm path", { skip: missing, timeout: 900_000 }, async (t) => {
  await build({ configFile: CONFIG, root: `${ROOT}/web`, logLevel: "warn" });
  const port = await freePort();
  const server = await preview({ configFile: CONFIG, root: `${ROOT}/web`, logLevel: "warn", preview: { port, strictPort: true, host: "127.0.0.1" } });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  try {
    const errors: string[] = [];
    const gpu = await quickStudy(browser, `http://127.0.0.1:${port}/?device=webgpu`, errors);
    if (gpu.device !== "webgpu") {
      const why = `chromium's WebGPU gave no adapter (${gpu.fallback ?? "no reason given"})`;
      if (process.env.CURVLAB_REQUIRE_WEBGPU === "1") throw new Error(`CURVLAB_REQUIRE_WEBGPU=1 but ${why}`);
      return t.skip(why);
    }
    const wasm = await quickStudy(browser, `http://127.0.0.1:${port}/?device=wasm`, errors);
    assert.equal(wasm.device, "wasm");
    assert.equal(gpu.dtype, "float32");
    assert.equal(wasm.dtype, "float64");
    assert.equal(gpu.losses.length, wasm.losses.length);
    const loss = Math.max(...gpu.losses.map((l, i) => Math.abs(l - wasm.losses[i]) / wasm.losses[i]));
    assert.equal(gpu.eigenvalues.length, wasm.eigenvalues.length, "one eigenvalue per parameter on both");
    const scale = Math.max(...wasm.eigenvalues.map(Math.abs));
    const eig = Math.max(...gpu.eigenvalues.map((v, i) => Math.abs(v - wasm.eigenvalues[i]) / scale));
    t.diagnostic(`adapter ${gpu.adapter}; losses ${loss.toExponential(1)} relative, eigenvalues ${eig.toExponential(1)} of max|lambda| (${gpu.eigenvalues.length}); quick study ${gpu.seconds.toFixed(0)} s on webgpu, ${wasm.seconds.toFixed(0)} s on wasm`);
    assert.ok(loss <= LOSS_BOUND, `train losses differ by ${loss} relative`);
    assert.ok(eig <= SPECTRUM_BOUND, `eigenvalues differ by ${eig} of max |lambda|`);
    assert.deepEqual(errors, [], "no console errors, page errors or external requests");
  } finally {
    await browser.close();
    await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
  }
});
