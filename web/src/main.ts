/**
 * The curvlab browser lab (the page). It reads the controls, sends jobs to the compute worker
 * (compute-worker.ts, which runs the library), shows each job's progress in its card, and draws
 * the results with the report's own Vega-Lite specs (src/report: lineChart, densityChart,
 * rankPlot, spectrumOverlay, pathChart), so a figure here is the figure `curvlab` writes.
 *
 * State lives here: the trained parameters (and the model and data they belong to) are kept on
 * the page, so a cancelled or restarted worker loses nothing. Cancel sets a shared flag the
 * worker checks at every step / product; if the worker does not answer within CANCEL_GRACE_MS
 * (a long dense eigensolve has no checkpoints) or the page is not cross-origin isolated (no
 * SharedArrayBuffer), the worker is terminated and a fresh one started.
 * URL parameters: `?device=wasm|webgpu|auto` (default auto: WebGPU when it works), `threads=N`
 * (Wasm worker threads, default 1; see worker-threads.ts).
 */
import { lineChart, fmt } from "../../src/report/figures.ts";
import { densityChart, rankPlot, spectrumOverlay } from "../../src/report/spectrum-figures.ts";
import { pathChart } from "../../src/report/path-figures.ts";
import type { EvalRecord } from "../../src/train/train.ts";
import { drawFigure, clearFigure } from "./render.ts";
import type {
  DeviceReport, FromWorker, InterpolateOutput, Job, JobOutput, SliceOutput, SpectrumOutput, ToWorker, TrainOutput,
} from "./protocol.ts";

/** Exact dense spectra up to this many parameters (materialize + eigh: a few seconds at 1,000). */
const DENSE_MAX = 1200;
const TOP_K = 20;
const CANCEL_GRACE_MS = 2500;

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const num = (id: string) => Number($<HTMLInputElement>(id).value);

// ---------------------------------------------------------------------------------------------
// Controls

interface Setup { readonly model: string; readonly data: string; readonly parameters: number }

function dataset(): "gmm" | "mnist" {
  return (document.querySelector('input[name="dataset"]:checked') as HTMLInputElement).value as "gmm" | "mnist";
}

function setup(): Setup {
  const h = num("hidden"), act = $<HTMLSelectElement>("act").value;
  let din: number, k: number, data: string;
  if (dataset() === "gmm") {
    din = num("d");
    k = num("k");
    data = `gmm:k=${k},d=${din},n=${num("n")},sep=${num("sep")},seed=${num("seed")}`;
  } else {
    din = 784;
    k = 10;
    data = `mnist:n=${num("mnist-n")}`;
  }
  const widths = [din, ...new Array<number>(num("layers")).fill(h), k];
  let parameters = 0;
  for (let i = 1; i < widths.length; i++) parameters += widths[i - 1]! * widths[i]! + widths[i]!;
  return { model: `mlp:${widths.join("-")}:${act}`, data, parameters };
}

function refreshControls(): void {
  $("k-out").textContent = $<HTMLInputElement>("k").value;
  $("sep-out").textContent = $<HTMLInputElement>("sep").value;
  const mnist = dataset() === "mnist";
  $("gmm-controls").hidden = mnist;
  $("mnist-controls").hidden = !mnist;
  const s = setup();
  $("model-spec").innerHTML = `<code>${s.model}</code> · ${s.parameters.toLocaleString("en")} parameters · ` +
    (s.parameters <= DENSE_MAX ? "exact spectrum" : "matrix-free spectrum");
}

// ---------------------------------------------------------------------------------------------
// Worker and jobs

type CardId = "train" | "spectrum" | "slice" | "interp";
const cardOf: Record<Job["kind"], CardId> = { train: "train", spectrum: "spectrum", slice: "slice", interpolate: "interp" };

interface Pending {
  readonly job: Job;
  readonly resolve: (o: JobOutput) => void;
  readonly reject: (e: Error) => void;
}

class CancelledError extends Error {
  constructor() {
    super("cancelled");
  }
}

const sharedFlag = typeof SharedArrayBuffer === "function" && crossOriginIsolated ? new Int32Array(new SharedArrayBuffer(4)) : null;
const params = new URLSearchParams(location.search);
const requestedDevice = (params.get("device") ?? "auto") as "auto" | "wasm" | "webgpu";
/** Wasm worker threads of the engine (default 1; see worker-threads.ts). */
const requestedThreads = Math.max(1, Number(params.get("threads") ?? 1) || 1);
let worker: Worker | null = null;
let ready: Promise<DeviceReport> | null = null;
let nextId = 1;
const pending = new Map<number, Pending>();
let busy = false;
let cancelTimer: number | undefined;
let onEval: ((r: EvalRecord) => void) | null = null;

function startWorker(): Promise<DeviceReport> {
  worker = new Worker(new URL("./compute-worker.ts", import.meta.url), { type: "module", name: `curvlab-compute threads=${requestedThreads}` });
  const w = worker;
  ready = new Promise<DeviceReport>((resolve, reject) => {
    w.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      if (m.type === "ready") resolve(m.device);
      else if (m.type === "fatal") reject(new Error(m.message));
      else handle(m);
    };
    w.onerror = (e) => reject(new Error(e.message || "the compute worker failed to load"));
  });
  w.postMessage({ type: "init", device: requestedDevice, cancelFlag: sharedFlag } satisfies ToWorker);
  return ready;
}

function handle(m: FromWorker): void {
  if (m.type === "progress") {
    const p = pending.get(m.id);
    if (p) showProgress(cardOf[p.job.kind], m.label, m.done, m.total);
  } else if (m.type === "eval") {
    onEval?.(m.record);
  } else if (m.type === "done" || m.type === "error") {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.type === "done") p.resolve(m.output);
    else p.reject(m.cancelled ? new CancelledError() : new Error(m.message));
  }
}

async function submit<T extends JobOutput>(job: Job): Promise<T> {
  await ready;
  const id = nextId++;
  const card = cardOf[job.kind];
  showProgress(card, "Starting…", 0, 1);
  try {
    return await new Promise<T>((resolve, reject) => {
      pending.set(id, { job, resolve: resolve as (o: JobOutput) => void, reject });
      worker!.postMessage({ type: "run", id, job } satisfies ToWorker);
    });
  } finally {
    hideProgress(card);
  }
}

function cancel(): void {
  if (!busy) return;
  setStatus("Cancelling…");
  $<HTMLButtonElement>("cancel").disabled = true;
  const kill = () => {
    // No answer (or no shared flag): stop the worker, fail what it had, start a fresh one.
    worker?.terminate();
    for (const [id, p] of pending) { pending.delete(id); p.reject(new CancelledError()); }
    void startWorker().then((d) => showDevice(d, false), (e) => setStatus(`Engine failed to restart: ${(e as Error).message}`, true));
  };
  if (sharedFlag) {
    Atomics.store(sharedFlag, 0, 1);
    cancelTimer = window.setTimeout(() => { if (pending.size > 0) kill(); }, CANCEL_GRACE_MS);
  } else kill();
}

/** Runs one user action with the buttons locked, Cancel enabled, and errors shown. */
async function action(name: string, body: () => Promise<void>): Promise<void> {
  if (busy) return;
  busy = true;
  if (sharedFlag) Atomics.store(sharedFlag, 0, 0);
  setButtons();
  const t0 = performance.now();
  setStatus(`${name}…`);
  try {
    await body();
    setStatus(`${name}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s.`);
  } catch (e) {
    if (e instanceof CancelledError) setStatus(`${name}: cancelled. Nothing was lost; adjust and run again.`);
    else {
      setStatus(`${name} failed: ${(e as Error).message}`, true);
      console.warn(e);
    }
  } finally {
    window.clearTimeout(cancelTimer);
    busy = false;
    setButtons();
  }
}

// ---------------------------------------------------------------------------------------------
// Page state and views

let trained: (Setup & { theta: Float64Array; history: EvalRecord[] }) | null = null;
let deviceReady = false;

function setButtons(): void {
  const idle = deviceReady && !busy;
  $<HTMLButtonElement>("run-quick").disabled = !idle;
  $<HTMLButtonElement>("run-train").disabled = !idle;
  for (const id of ["run-spectrum", "run-slice", "run-interp"]) $<HTMLButtonElement>(id).disabled = !idle || !trained;
  $<HTMLButtonElement>("cancel").disabled = !busy;
  document.body.classList.toggle("busy", busy);
}

function setStatus(text: string, error = false): void {
  const el = $("status");
  el.textContent = text;
  el.classList.toggle("error", error);
}

function showProgress(card: CardId, label: string, done: number, total: number): void {
  const p = document.querySelector(`#card-${card} .progress`) as HTMLElement;
  p.hidden = false;
  const frac = total > 0 ? Math.min(1, done / total) : 0;
  (p.querySelector(".bar") as HTMLElement).style.width = `${(100 * frac).toFixed(1)}%`;
  (p.querySelector(".label") as HTMLElement).textContent = total > 1 ? `${label} — ${done} / ${total}` : label;
}

function hideProgress(card: CardId): void {
  (document.querySelector(`#card-${card} .progress`) as HTMLElement).hidden = true;
}

function showDevice(d: DeviceReport, announce = true): void {
  deviceReady = true;
  const el = $("device");
  el.classList.remove("starting");
  el.classList.toggle("gpu", d.device === "webgpu");
  el.dataset.device = d.device;
  $("device-text").textContent = d.device === "webgpu"
    ? `WebGPU · ${d.adapter ?? "GPU"}`
    : `WebAssembly · ${d.threads} thread${d.threads === 1 ? "" : "s"}`;
  el.title = d.device === "webgpu" ? "WebGPU: float32 throughout" : `WebAssembly on the CPU: training in float32, curvature in float64${d.fallback ? `. WebGPU not used: ${d.fallback}` : ""}`;
  if (announce) setStatus(`Ready on ${d.device === "webgpu" ? "WebGPU" : "WebAssembly"}${d.fallback ? ` (${d.fallback})` : ""}.`);
  setButtons();
}

function stat(label: string, value: string, title = ""): string {
  return `<div class="stat" title="${title}"><span class="v">${value}</span><span class="k">${label}</span></div>`;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

async function drawLoss(history: readonly EvalRecord[], title: string): Promise<void> {
  const epochs = history.map((r) => r.epoch);
  const batch = history.filter((r) => r.batchLoss !== null);
  await drawFigure($("fig-loss"), () => lineChart({
    title: "Loss during training", subtitle: title, xTitle: "epoch", yTitle: "cross-entropy", logY: true,
    series: [
      { name: "train loss", x: epochs, y: history.map((r) => r.trainLoss) },
      ...(batch.length ? [{ name: "minibatch loss", x: batch.map((r) => r.epoch), y: batch.map((r) => r.batchLoss!) }] : []),
    ],
  }));
  await drawFigure($("fig-acc"), () => lineChart({
    title: "Accuracy during training", subtitle: "whole train set, at each evaluation", xTitle: "epoch", yTitle: "train accuracy",
    series: [{ name: "train accuracy", x: epochs, y: history.map((r) => r.trainAccuracy) }],
  }));
}

async function runTrain(): Promise<void> {
  const s = setup();
  const history: EvalRecord[] = [];
  let drawing: Promise<void> | null = null, again = false;
  const redraw = () => {
    if (drawing) { again = true; return; }
    drawing = drawLoss(history, `${s.model} on ${s.data}`).finally(() => { drawing = null; if (again) { again = false; redraw(); } });
  };
  onEval = (r) => {
    history.push(r);
    $("train-meta").textContent = `epoch ${r.epoch.toFixed(1)} · loss ${fmt(r.trainLoss)} · accuracy ${pct(r.trainAccuracy)}`;
    redraw();
  };
  clearFigure($("fig-loss"), "Training…");
  clearFigure($("fig-acc"), "");
  try {
    const out = await submit<TrainOutput>({
      kind: "train", model: s.model, data: s.data, epochs: num("epochs"), batchSize: num("batch"), lr: num("lr"), momentum: 0.9, seed: num("seed"),
    });
    trained = { ...s, theta: out.theta, history: [...out.history] };
    if (!$("fig-slice").querySelector("svg")) clearFigure($("fig-slice"), `Press “1-D slice”: the loss along the top Hessian eigenvector of ${s.model}.`);
    const last = out.history[out.history.length - 1]!;
    $("train-meta").textContent = `${out.parameters.toLocaleString("en")} parameters · loss ${fmt(last.trainLoss)} · accuracy ${pct(last.trainAccuracy)} · ${out.seconds.toFixed(1)} s`;
    await drawing;
    await drawLoss(out.history, `${s.model} on ${s.data}`);
  } finally {
    onEval = null;
  }
}

async function runSpectrum(): Promise<void> {
  const t = trained!;
  for (const id of ["fig-density", "fig-top", "fig-overlay"]) clearFigure($(id), "Computing…");
  $("spectrum-reading").hidden = true;
  $("spectrum-stats").replaceChildren();
  const out = await submit<SpectrumOutput>({
    kind: "spectrum", model: t.model, data: t.data, theta: t.theta, ggn: $<HTMLInputElement>("ggn").checked,
    denseMax: DENSE_MAX, topK: TOP_K, probes: num("probes"), steps: num("steps"), seed: num("seed"),
  });
  const H = out.spectra[0]!, G = out.spectra[1];
  const lmax = out.method === "dense" ? H.eigenvalues[H.eigenvalues.length - 1]! : H.eigenvalues[0]!;
  const stats = [stat("parameters", out.parameters.toLocaleString("en")), stat("λ max", fmt(lmax), "largest Hessian eigenvalue")];
  const r = H.reading;
  if (r) {
    const sp = r.split;
    stats.push(
      stat("outliers", `${sp.outlierCount}${sp.negativeOutlierCount ? ` + ${sp.negativeOutlierCount}−` : ""}`, `positive outliers: ${sp.outliers.map(fmt).join(", ")}`),
      stat("bulk", `[${fmt(sp.bulk.min)}, ${fmt(sp.bulk.max)}]`, "range of the bulk"),
      stat("near zero", pct(r.flatness.nearZeroFraction), "|λ| ≤ 0.1% of max |λ|"),
      stat("negative mass", pct(r.flatness.negativeMass), "Σ|λ<0| / Σ|λ|"),
      stat("trace", fmt(r.flatness.trace)),
    );
    const g = sp.strongestGap;
    if (g) stats.push(stat("clearest gap", `${g.index} above, ×${g.ratio.toFixed(2)}`, `the largest gap ratio among the top values; outliers need ×${sp.settings.minGapRatio}`));
    if (G?.reading) stats.push(stat("GN outliers", String(G.reading.outlierCount), `Gauss-Newton outliers: ${G.reading.split.outliers.map(fmt).join(", ")}`));
  }
  stats.push(stat("loss / acc.", `${fmt(out.loss)} / ${pct(out.accuracy)}`));
  $("spectrum-stats").innerHTML = stats.join("");
  const matvecs = out.spectra.reduce((s, x) => s + x.matvecs, 0);
  $("spectrum-meta").textContent = `${out.method === "dense" ? "exact (dense)" : "matrix-free (Lanczos + SLQ)"} · ${out.dtype} · ${matvecs.toLocaleString("en")} products · ${out.seconds.toFixed(1)} s`;
  const where = `${t.model} on ${t.data}`;
  showReading(out, t);
  const dens = $("fig-density");
  await drawFigure(dens, () => densityChart({
    grid: H.density!.x, density: H.density!.y, title: "Hessian spectral density (SLQ)",
    eigenvalues: H.exact ? H.eigenvalues : undefined, xScale: "symlog",
  }));
  dens.dataset.eigenvalues = String(H.eigenvalues.length);
  const series = [{ name: "Hessian", eigenvalues: H.eigenvalues }, ...(G ? [{ name: "Gauss-Newton", eigenvalues: G.eigenvalues }] : [])];
  await drawFigure($("fig-top"), () => rankPlot({ series, title: "Top eigenvalues", top: Math.min(30, H.eigenvalues.length) }));
  if (G && H.exact && G.exact) {
    await drawFigure($("fig-overlay"), () => spectrumOverlay({ spectra: series, title: "Hessian vs Gauss-Newton", subtitle: where }));
  } else if (G) {
    // No exact spectra: the two SLQ densities, clipped at 1e-6 x their maximum as densityChart does.
    const top = Math.max(...out.spectra.flatMap((s) => s.density!.y));
    await drawFigure($("fig-overlay"), () => lineChart({
      title: "Hessian vs Gauss-Newton (SLQ densities)", subtitle: "clipped below 1e−6 × max", xTitle: "eigenvalue", yTitle: "density", logY: true,
      series: out.spectra.map((s) => ({ name: s.name, x: s.density!.x, y: s.density!.y.map((v) => Math.max(v, 1e-6 * top)) })),
    }));
  } else clearFigure($("fig-overlay"), "Tick “Gauss-Newton overlay” to compare H with G.");
}

/** A few sentences reading the spectrum against Sagun et al.'s picture (bulk near zero, about k − 1 outliers). */
function showReading(out: SpectrumOutput, t: Setup): void {
  const el = $("spectrum-reading");
  const H = out.spectra[0]!, G = out.spectra[1];
  const classes = Number(/-(\d+):[a-z]+$/.exec(t.model)?.[1] ?? 0);
  const desc = Float64Array.from(H.eigenvalues).sort().reverse();
  const lines: string[] = [];
  if (H.reading) {
    const sp = H.reading.split, g = sp.strongestGap;
    lines.push(`${pct(H.reading.flatness.nearZeroFraction)} of the ${out.parameters} eigenvalues lie within 0.1% of λ max of zero, and ` +
      `negative eigenvalues carry ${pct(H.reading.flatness.negativeMass)} of Σ|λ|: the bulk.`);
    if (sp.outlierCount > 0) {
      lines.push(`${sp.outlierCount} outlier${sp.outlierCount > 1 ? "s" : ""} (${sp.outliers.map(fmt).join(", ")}) stand above a gap of ×${sp.gap!.ratio.toFixed(2)}; ` +
        `with ${classes} classes Sagun et al. expect about ${classes - 1}.`);
    } else if (g) {
      lines.push(`The clearest gap is below the top ${g.index} (${Array.from(desc.subarray(0, g.index), fmt).join(", ")}), ×${g.ratio.toFixed(2)} ` +
        `over the next: short of the ×${sp.settings.minGapRatio} the split needs to call them outliers. With ${classes} classes Sagun et al. expect about ${classes - 1}; ` +
        `more separable data (the separation slider) or more training sharpen the gap.`);
    }
    if (G?.reading) {
      const gTop = Float64Array.from(G.eigenvalues).sort().reverse();
      const psd = G.reading.flatness.negativeMass < 1e-6;
      lines.push(`The Gauss-Newton matrix G has the top ${Array.from(gTop.subarray(0, 3), fmt).join(", ")} against ${Array.from(desc.subarray(0, 3), fmt).join(", ")} for H` +
        (psd ? `, and no negative eigenvalues: the negative part of H comes from the residual H − G.` : `; its negative mass is ${pct(G.reading.flatness.negativeMass)}.`));
    }
  } else {
    lines.push(`${out.parameters.toLocaleString("en")} parameters: too many for the dense spectrum, so the top ${desc.length} eigenvalues come from Lanczos ` +
      `(largest ${fmt(desc[0]!)}) and the density from SLQ. The bulk / outlier split needs the whole spectrum: use a model with ≤ ${DENSE_MAX.toLocaleString("en")} parameters.`);
  }
  el.innerHTML = `<h4>Reading</h4>${lines.map((l) => `<p>${l}</p>`).join("")}`;
  el.hidden = false;
}

async function runSlice(): Promise<void> {
  const t = trained!;
  clearFigure($("fig-slice"), "Computing…");
  const out = await submit<SliceOutput>({ kind: "slice", model: t.model, data: t.data, theta: t.theta, range: 1, points: 41, seed: num("seed") });
  $("slice-meta").textContent = `λ max ${fmt(out.lambdaMax)} · ${out.seconds.toFixed(1)} s`;
  await drawFigure($("fig-slice"), () => lineChart({
    title: "Loss along the top Hessian eigenvector", subtitle: `L(θ + a v), ‖v‖ = 1, beside the model L(θ) + (g·v) a + λ a²/2 (λ = ${fmt(out.lambdaMax)}, g·v = ${fmt(out.slope)})`,
    xTitle: "a", yTitle: "train loss",
    series: [{ name: "loss", x: out.alphas, y: out.loss }, { name: "second-order model", x: out.alphas, y: out.quadratic }],
  }));
}

async function runInterp(): Promise<void> {
  const t = trained!;
  clearFigure($("fig-path"), "Training two runs from one start…");
  clearFigure($("fig-path-curv"), "");
  const out = await submit<InterpolateOutput>({
    kind: "interpolate", model: t.model, data: t.data, seed: num("seed"), lr: num("lr"), momentum: 0.9,
    smallBatch: num("batch"), smallEpochs: num("epochs"), largeSteps: 150, points: 41, curvaturePoints: 5,
  });
  $("interp-meta").textContent = `barrier ${fmt(out.barrier)} · distance ${fmt(out.distance)} · ${out.seconds.toFixed(1)} s`;
  const markers = [{ alpha: 0, label: `batch ${out.small.batch}` }, { alpha: 1, label: `batch ${out.large.batch}` }];
  await drawFigure($("fig-path"), () => pathChart({
    alpha: out.alphas, title: "Small batch to large batch", markers,
    panels: [
      { yTitle: "train loss", series: [{ name: "loss", values: out.loss }], logY: true },
      { yTitle: "train accuracy", series: [{ name: "accuracy", values: out.accuracy }] },
    ],
  }));
  await drawFigure($("fig-path-curv"), () => pathChart({
    alpha: out.curvature.map((c) => c.alpha), title: "Sharpness along the path", markers,
    yTitle: "top eigenvalue", series: [{ name: "λ max", values: out.curvature.map((c) => c.lambdaMax) }],
  }));
}

// ---------------------------------------------------------------------------------------------
// Wiring

for (const el of document.querySelectorAll(".controls input, .controls select")) el.addEventListener("input", refreshControls);
$("dense-max").textContent = DENSE_MAX.toLocaleString("en");
$("topk").textContent = String(TOP_K);
refreshControls();
clearFigure($("fig-loss"), "Press “Run quick study” to train the model; the loss appears here as it trains.");
clearFigure($("fig-acc"), "");
for (const id of ["fig-density", "fig-top", "fig-overlay"]) clearFigure($(id), "");
clearFigure($("fig-slice"), "Needs a trained model.");
clearFigure($("fig-path"), "Trains a small-batch and a full-batch run from the same start and walks the line between them.");
clearFigure($("fig-path-curv"), "");
$("fig-density").replaceChildren(Object.assign(document.createElement("p"), { className: "figure-empty", textContent: "Spectrum figures appear after training." }));

$("run-quick").addEventListener("click", () => action("Quick study", async () => { await runTrain(); await runSpectrum(); }));
$("run-train").addEventListener("click", () => action("Training", runTrain));
$("run-spectrum").addEventListener("click", () => action("Spectrum", runSpectrum));
$("run-slice").addEventListener("click", () => action("Slice", runSlice));
$("run-interp").addEventListener("click", () => action("Batch path", runInterp));
$("cancel").addEventListener("click", cancel);

startWorker().then(showDevice, (e) => setStatus(`The engine failed to start: ${(e as Error).message}`, true));
