/**
 * `curvlab landscape`: 1-D and 2-D slices of the loss (and accuracy) around a point, along
 * random filter-normalized directions (Li, Xu, Taylor, Studer & Goldstein 2018, "Visualizing the
 * Loss Landscape of Neural Nets"), the top Hessian eigenvectors, or the principal directions of a
 * training trajectory given as checkpoints (their section 7). Thin over landscape/directions.ts
 * and landscape/slices.ts; see those for the methods and defaults.
 *
 * Writes (with --out DIR, all at once) slice.json and either surface.svg/png (2-D: heat map with
 * contours, the trajectory drawn over it for pca; plus accuracy.svg/png for classifiers) or
 * line.svg/png (1-D). Every option is checked before the engine starts, so bad input fails fast
 * with one message and nothing written.
 *
 * Ranges are in units of the directions: for random directions a coefficient of 1 moves each
 * filter by its own norm (so -1:1 spans the scale of the weights, as in Li et al.); eigenvectors
 * and principal directions are unit vectors, so their range is a Euclidean distance in parameter
 * space. For pca the default range covers the projected trajectory with a 15% margin.
 */
import { InputError } from "../errors.ts";
import { startEngine, type DeviceName } from "../engine/start.ts";
import type { DTypeName } from "../engine/dtype.ts";
import type { LossName } from "../nn/loss.ts";
import { loadWeights } from "../train/checkpoint.ts";
import { modelObjective } from "../landscape/objective.ts";
import {
  cosine,
  eigenDirections,
  randomDirection,
  trajectoryPca,
  type BiasHandling,
  type Normalization,
  BIAS_HANDLINGS,
  NORMALIZATIONS,
} from "../landscape/directions.ts";
import { slice1d, slice2d, type AxisOptions, type Slice1d, type Slice2d } from "../landscape/slices.ts";
import type { TopLevelSpec } from "../report/render.ts";
import { formatHelp, parseArgs, type OptionSpecs } from "./args.ts";
import { loadModelDataWeights, MODEL_DATA_OPTIONS, SPLIT_OPTION, resolveWeightsPath } from "./load.ts";
import { progress } from "./progress.ts";
import { writeOutputs } from "./output.ts";

const DIRECTIONS = ["random", "eigen", "pca"] as const;
type DirectionKind = (typeof DIRECTIONS)[number];

const OPTIONS: OptionSpecs = {
  ...MODEL_DATA_OPTIONS,
  ...SPLIT_OPTION,
  weights: { type: "string", path: "file-or-folder", help: "the point to slice around (.safetensors or .npz file, or checkpoint directory; default: the seeded initialization, or for pca the last checkpoint)", meta: "FILE" },
  directions: { type: "string", help: "random (Gaussian, normalized) | eigen (top Hessian eigenvectors) | pca (of the --checkpoints trajectory)", choices: [...DIRECTIONS], default: "random" },
  dims: { type: "int", bounds: { min: 1, max: 2 }, help: "1 (a line) or 2 (a surface)", default: 2 },
  range: { type: "string", help: "coefficients along each direction, FROM:TO, or FROM:TO,FROM:TO per axis (default -1:1; for pca: the trajectory's extent)", meta: "A:B" },
  points: { type: "int", bounds: { min: 1 }, help: "grid points per axis", default: 25 },
  seed: { type: "int", bounds: { min: 0 }, help: "seed of the random directions (and of the Lanczos start, and the initialization without --weights)", default: 0 },
  normalization: { type: "string", help: "random directions: filter (Li et al.) | layer | none", choices: [...NORMALIZATIONS], default: "filter" },
  biases: { type: "string", help: "random directions on biases (1-D parameters): zero (Li et al.'s default) | normalize | copy", choices: [...BIAS_HANDLINGS], default: "zero" },
  checkpoints: { type: "string", help: "for --directions pca: checkpoint directories (or .safetensors files) along training, in order", meta: "DIR1,DIR2,..." },
  dtype: { type: "string", help: "arithmetic precision", choices: ["float32", "float64"], default: "float64" },
  "batch-size": { type: "int", bounds: { min: 1 }, help: "examples per device batch", default: 1000 },
  json: { type: "boolean", help: "print the result (settings, grid, loss, accuracy) as one JSON object on stdout" },
  out: { type: "string", path: "out", help: "write slice.json and the figure (surface.svg/png or line.svg/png) into this directory", meta: "DIR" },
  quiet: { type: "boolean", help: "no progress on stderr" },
};

export const LANDSCAPE_HELP = formatHelp(
  "landscape",
  "1-D and 2-D slices of the loss and accuracy around a point: random filter-normalized directions (Li et al. 2018), top Hessian eigenvectors, or PCA of a training trajectory.",
  OPTIONS,
  [
    "curvlab landscape --model mlp:20-32-5:tanh --data gmm:k=5,d=20,n=200,sep=3,seed=0 --weights runs/gmm --out runs/gmm/landscape",
    "curvlab landscape --model mlp:20-32-5:tanh --data gmm:k=5 --weights runs/gmm --directions eigen --dims 1 --range -0.5:0.5",
    "curvlab landscape --model mlp:20-32-5:tanh --data gmm:k=5 --directions pca --checkpoints runs/e1,runs/e2,runs/e3,runs/e4",
  ],
);

/** "-1:1" -> one range; "-1:1,-0.5:0.5" -> one per axis. */
export function parseRange(raw: string, dims: number): AxisOptions[] {
  const bad = () =>
    new InputError("--range", `expected FROM:TO with FROM < TO (e.g. -1:1)${dims === 2 ? ", or FROM:TO,FROM:TO for each axis" : ""}, got "${raw}"`);
  const parts = raw.split(",");
  if (parts.length !== 1 && parts.length !== dims) throw bad();
  const axes = parts.map((p) => {
    const m = /^\s*([^:]+):([^:]+)\s*$/.exec(p);
    if (!m) throw bad();
    const from = Number(m[1]), to = Number(m[2]);
    if (m[1].trim() === "" || m[2].trim() === "" || !Number.isFinite(from) || !Number.isFinite(to) || !(from < to)) throw bad();
    return { from, to };
  });
  return dims === 2 && axes.length === 1 ? [axes[0], axes[0]] : axes;
}

/** A range covering `coords` (and 0) with a margin of `margin` of its span on each side. */
function coveringRange(coords: readonly number[], margin = 0.15): AxisOptions {
  const lo = Math.min(0, ...coords), hi = Math.max(0, ...coords);
  const pad = margin * (hi - lo || 1);
  return { from: lo - pad, to: hi + pad };
}

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

/** Random directions: one Gaussian direction per axis, normalized. */
export interface RandomDirectionsInfo {
  readonly kind: "random";
  readonly normalization: Normalization;
  readonly biases: BiasHandling;
  /** Seed of each direction (seed + axis). */
  readonly seeds: readonly number[];
  /** Cosine between the two directions (2-D slices only). */
  readonly cosine?: number;
}

/** The top Hessian eigenvectors (Lanczos), largest eigenvalue first. */
export interface EigenDirectionsInfo {
  readonly kind: "eigen";
  /** The operator's description. */
  readonly operator: string;
  readonly eigenvalues: readonly number[];
  readonly residuals: readonly number[];
  readonly converged: readonly boolean[];
  readonly matvecs: number;
  readonly seconds: number;
}

/** The principal directions of a training trajectory (checkpoints), centred on the final point. */
export interface PcaDirectionsInfo {
  readonly kind: "pca";
  /** The --checkpoints paths, in training order. */
  readonly checkpoints: readonly string[];
  readonly explainedVarianceRatio: readonly number[];
  /** coordinates[i][j]: checkpoint i minus the final point, along direction j. */
  readonly coordinates: readonly (readonly number[])[];
  /** Whether the mean row was subtracted before the PCA. */
  readonly center: boolean;
}

export type DirectionsInfo = RandomDirectionsInfo | EigenDirectionsInfo | PcaDirectionsInfo;

/** The result of `curvlab landscape` (slice.json, and stdout with --json). */
export interface LandscapeResult {
  readonly command: "landscape";
  readonly model: string;
  readonly data: string;
  readonly loss: LossName;
  /** The point sliced around: a file, a checkpoint directory, or the seeded initialization. */
  readonly weights: string;
  readonly dtype: DTypeName;
  /** How the directions were chosen, with what that method measured. */
  readonly directions: DirectionsInfo;
  readonly slice: Slice1d | Slice2d;
}

export async function landscapeCommand(argv: readonly string[]): Promise<number> {
  const opts = parseArgs(argv, OPTIONS, "landscape");
  if (opts.help) {
    process.stdout.write(LANDSCAPE_HELP);
    return 0;
  }
  // Everything is checked before the engine starts.
  const dims = Number(opts.dims);
  if (dims !== 1 && dims !== 2) throw new InputError("--dims", `expected 1 (a line) or 2 (a surface), got ${dims}`);
  const kind = opts.directions as DirectionKind;
  const points = Number(opts.points);
  if (points < 2) throw new InputError("--points", `expected at least 2 grid points per axis, got ${points}`);
  if (points > 401) throw new InputError("--points", `expected at most 401 grid points per axis (one loss evaluation each), got ${points}`);
  const ranges = opts.range !== undefined ? parseRange(String(opts.range), dims) : null;
  const seed = Number(opts.seed);
  const checkpointList = opts.checkpoints !== undefined ? String(opts.checkpoints).split(",").map((s) => s.trim()) : null;
  if (kind === "pca") {
    if (!checkpointList) throw new InputError("--checkpoints", "--directions pca needs the trajectory: --checkpoints DIR1,DIR2,... (at least 2 checkpoints, in training order)");
    if (checkpointList.some((s) => s === "")) throw new InputError("--checkpoints", `expected comma-separated paths without empty entries, got "${opts.checkpoints}"`);
    if (checkpointList.length < 2) throw new InputError("--checkpoints", `PCA of a trajectory needs at least 2 checkpoints, got ${checkpointList.length}`);
  } else if (checkpointList) {
    throw new InputError("--checkpoints", `is only used with --directions pca (got --directions ${kind})`);
  }
  const loaded = loadModelDataWeights(opts, "landscape", seed, true);
  const { model, data } = loaded;
  const trajectory = checkpointList ? checkpointList.map((p) => loadWeights(resolveWeightsPath(p), model)) : null;
  // For pca the plot is centred on the final point: --weights if given, else the last checkpoint.
  const theta = trajectory && opts.weights === undefined ? trajectory[trajectory.length - 1] : loaded.theta;
  const weights = trajectory && opts.weights === undefined ? checkpointList![checkpointList!.length - 1] : loaded.weights;
  const dtype = opts.dtype as DTypeName;
  const device = opts.device as DeviceName;
  if (device === "webgpu" && dtype === "float64") throw new InputError("--dtype", "webgpu has no float64; add --dtype float32");
  const normalization = opts.normalization as Normalization;
  const biases = opts.biases as BiasHandling;
  // PCA is host work: done before the engine starts, so a degenerate trajectory fails fast too.
  const pca = trajectory ? trajectoryPca(trajectory, theta, { components: dims }) : null;

  await startEngine({ device });
  const objective = modelObjective(model, data, { loss: opts.loss as LossName, dtype, batchSize: Number(opts["batch-size"]) });
  const quiet = !!opts.quiet;
  try {
    // Directions.
    let dirs: Float64Array[];
    let directionInfo: DirectionsInfo;
    let axisTitles: string[];
    let axes: AxisOptions[] = ranges ?? Array.from({ length: dims }, () => ({ from: -1, to: 1 }));
    let trajectoryPoints: { x: number; y: number; label: string }[] | undefined;
    if (kind === "random") {
      dirs = Array.from({ length: dims }, (_, k) => randomDirection(model.layout, theta, { seed: seed + k, normalization, biases }));
      directionInfo = { kind, normalization, biases, seeds: dirs.map((_, k) => seed + k), ...(dims === 2 ? { cosine: cosine(dirs[0], dirs[1]) } : {}) };
      const how = normalization === "none" ? "Gaussian" : `${normalization}-normalized`;
      axisTitles = dirs.map((_, k) => `random direction ${k + 1} (${how})`);
    } else if (kind === "eigen") {
      const bar = progress("eigenvectors", { quiet });
      const e = await eigenDirections(objective, theta, dims, { seed, onProgress: (p) => bar.update(p.converged, p.wanted, `step ${p.step}`) });
      bar.done();
      dirs = [...e.directions];
      directionInfo = { kind, operator: e.operator, eigenvalues: e.eigenvalues, residuals: e.residuals, converged: e.converged, matvecs: e.matvecs, seconds: e.seconds };
      axisTitles = e.eigenvalues.map((l, k) => `Hessian eigenvector ${k + 1} (λ = ${Number(l.toPrecision(4))})`);
    } else {
      if (!pca) throw new Error("landscape: pca directions without a trajectory");
      dirs = [...pca.directions];
      directionInfo = { kind, checkpoints: checkpointList!, explainedVarianceRatio: pca.explainedVarianceRatio, coordinates: pca.coordinates, center: pca.center };
      axisTitles = pca.explainedVarianceRatio.map((r, k) => `PC ${k + 1} (${pct(r)} of the trajectory's variance)`);
      if (!ranges) axes = Array.from({ length: dims }, (_, k) => coveringRange(pca.coordinates.map((c) => c[k])));
      trajectoryPoints = pca.coordinates.map((c, i) => ({ x: c[0], y: c[1] ?? 0, label: checkpointList![i] }));
    }

    // The slice.
    const bar = progress("landscape", { quiet });
    const onProgress = (done: number, total: number) => bar.update(done, total);
    const slice: Slice1d | Slice2d =
      dims === 1
        ? await slice1d(objective, theta, dirs[0], { ...axes[0], points, onProgress })
        : await slice2d(objective, theta, [dirs[0], dirs[1]], { axes: [{ ...axes[0], points }, { ...axes[1], points }], onProgress });
    bar.done();

    const json: LandscapeResult = {
      command: "landscape",
      model: model.spec,
      data: data.name,
      loss: opts.loss as LossName,
      weights,
      dtype,
      directions: directionInfo,
      slice,
    };
    const written: string[] = [];
    if (opts.out !== undefined) {
      // Loaded here: Vega and the renderer are a second of start-up that bad input need not pay.
      const { sliceLineChart, surfaceChart } = await import("../report/surface-figures.ts");
      const { toPng, toSvg } = await import("../report/render.ts");
      const subtitle = `${model.spec} on ${data.name}; ${weights}`;
      const files: Record<string, string | Uint8Array> = { "slice.json": JSON.stringify(json, null, 2) + "\n" };
      const figures: [string, TopLevelSpec][] = [];
      if (slice.kind === "slice-1d") {
        figures.push(["line", sliceLineChart({ alphas: slice.alphas, loss: slice.loss, accuracy: slice.accuracy, title: `loss along ${axisTitles[0]}`, subtitle })]);
      } else {
        const common = { xs: slice.xs, ys: slice.ys, subtitle, xTitle: axisTitles[0], yTitle: axisTitles[1], trajectory: trajectoryPoints };
        figures.push(["surface", surfaceChart({ ...common, values: slice.loss, title: `loss surface (${kind} directions)`, valueTitle: "loss" })]);
        if (slice.accuracy) figures.push(["accuracy", surfaceChart({ ...common, values: slice.accuracy, title: `accuracy surface (${kind} directions)`, valueTitle: "accuracy", logColor: false })]);
      }
      for (const [name, spec] of figures) {
        const [svg, png] = await Promise.all([toSvg(spec), toPng(spec)]);
        files[`${name}.svg`] = svg;
        files[`${name}.png`] = png;
      }
      const dir = String(opts.out);
      writeOutputs(dir, files);
      written.push(...Object.keys(files));
    }
    if (opts.json) process.stdout.write(JSON.stringify(json) + "\n");
    else {
      const s = slice;
      const flat = s.kind === "slice-1d" ? s.loss : s.loss.flat();
      const finite = flat.filter(Number.isFinite);
      process.stdout.write(
        [
          `${dims}-D slice of ${objective.description} along ${kind} directions: ${s.evaluations} evaluations, ${s.seconds.toFixed(1)} s`,
          `  loss at the point ${s.originLoss.toPrecision(6)}${s.originAccuracy !== null ? `, accuracy ${pct(s.originAccuracy)}` : ""}; over the slice ${Math.min(...finite).toPrecision(4)} to ${Math.max(...finite).toPrecision(4)}`,
          ...(directionInfo.kind === "eigen" ? [`  eigenvalues ${directionInfo.eigenvalues.map((l) => l.toPrecision(4)).join(", ")}`] : []),
          ...(directionInfo.kind === "pca" ? [`  explained variance ${directionInfo.explainedVarianceRatio.map(pct).join(", ")}`] : []),
          ...(written.length ? [`  wrote ${opts.out}/${written.join(", ")}`] : []),
          "",
        ].join("\n"),
      );
    }
    return 0;
  } finally {
    objective.dispose();
  }
}
