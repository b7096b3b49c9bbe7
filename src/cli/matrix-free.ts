/**
 * The frame of the matrix-free commands (spectrum, density, trace, diag): shared options, the
 * engine and operator, progress, `--resume DIR` (a run directory whose journal keeps finished
 * units: stop the command at any time, run it again with the same options, and it goes on), and
 * the outputs: one JSON object on stdout with --json, files in --out (or the --resume directory):
 * <command>.json, the command's tables as CSV and its figures as SVG and PNG.
 */
import { formatHelp, parseArgs, type OptionSpecs, type ParsedOptions } from "./args.ts";
import { buildOperator, curvatureOptions, prepareCurvature, type CurvatureSettings, type CurvatureSetup } from "./curvature-options.ts";
import { openRunDirectory } from "./run-directory.ts";
import { progress, type Progress } from "./progress.ts";
import { writeOutputs } from "./output.ts";
import type { LinearOperator } from "../curvature/operator.ts";
import type { Journal } from "../linalg/journal.ts";
import type { TopLevelSpec } from "vega-lite";
import { toPng, toSvg } from "../report/render.ts";
import { prefixedJournal } from "../linalg/journal.ts";
import { miniBatches } from "../data/minibatch.ts";
import type { Dataset } from "../data/dataset.ts";
import { InputError } from "../errors.ts";
import { withFlags } from "./flags.ts";

export interface MatrixFreeContext {
  readonly opts: ParsedOptions;
  readonly setup: CurvatureSetup;
  readonly op: LinearOperator;
  readonly journal?: Journal;
  readonly bar: Progress;
}

/** One mini-batch of --batches: its data, its operator and its part of the journal. */
export interface MiniBatchOperator {
  readonly data: Dataset;
  readonly op: LinearOperator;
  readonly journal?: Journal;
}

export interface MatrixFreeBatchContext extends Omit<MatrixFreeContext, "op" | "journal"> {
  readonly batches: readonly MiniBatchOperator[];
}

/** What a result records of --batches (null without it). */
export interface MiniBatchRecord {
  /** Rows per batch (--batch-size). */
  readonly size: number;
  /** Batches (--batches). */
  readonly count: number;
  /** Seed of the draws (--seed): batch j is the first `size` rows of permutation seed + j. */
  readonly seed: number;
  /** Each batch's name. */
  readonly data: readonly string[];
}

/** --batches K: spectrum and density measure K mini-batch matrices instead of the whole data. */
export const MINI_BATCH_OPTIONS: OptionSpecs = {
  batches: {
    type: "int", bounds: { min: 1, max: 1000 }, meta: "K",
    help: "measure K mini-batch matrices instead of the whole data's: each the operator of the mean loss over --batch-size rows drawn without replacement (seeded by --seed); the result combines them",
  },
};

/** The settings a --batches run shares with its resumed runs. */
export function miniBatchSettings(o: ParsedOptions): { readonly batches: number | null; readonly miniBatchSize: number | null } {
  return o.batches === undefined ? { batches: null, miniBatchSize: null } : { batches: Number(o.batches), miniBatchSize: Number(o["batch-size"]) };
}

export interface MatrixFreeOutput {
  /** The command's result (without the shared settings, which are added). */
  readonly result: Record<string, unknown>;
  /** Figures to write with --out, by file stem. */
  readonly figures: Readonly<Record<string, TopLevelSpec>>;
  /** Tables (CSV text, report/csv.ts) to write with --out, by file name. */
  readonly tables?: Readonly<Record<string, string>>;
  /** Human-readable summary lines. */
  readonly summary: readonly string[];
}

export interface MatrixFreeCommand {
  readonly name: string;
  readonly summary: string;
  readonly options: OptionSpecs;
  readonly examples: readonly string[];
  /** The command's own settings that a resumed run must share. */
  settings(opts: ParsedOptions): Record<string, unknown>;
  /** Checks of options against the loaded problem (e.g. K below the operator size), before anything starts. */
  check?(opts: ParsedOptions, setup: CurvatureSetup): void;
  run(ctx: MatrixFreeContext): Promise<MatrixFreeOutput>;
  /** The command on the mini-batches of --batches (commands that offer MINI_BATCH_OPTIONS). */
  runBatches?(ctx: MatrixFreeBatchContext): Promise<MatrixFreeOutput>;
}

/**
 * What a matrix-free command's run directory keeps in run.json: the command, the operator's
 * settings and the command's own settings (`S`). A resumed run must match it exactly.
 */
export type MatrixFreeRunFile<N extends string, S> = { readonly command: N } & CurvatureSettings & S;

/**
 * The fields every matrix-free result (<command>.json, and stdout with --json) has besides the
 * command's own settings and output: the run file's fields, the operator's size and the wall time.
 */
export type MatrixFreeResultBase<N extends string> = { readonly command: N } & CurvatureSettings & {
  /** Dimension of the operator (the block's, with --block). */
  readonly size: number;
  /** Wall time of the whole command, in seconds (engine start and operator set-up included). */
  readonly seconds: number;
};

export function matrixFreeOptions(extra: OptionSpecs): OptionSpecs {
  return {
    ...curvatureOptions("float32"),
    ...extra,
    out: { type: "string", path: "out", help: "write the result JSON, its tables (CSV) and figures (PNG, SVG) into this directory", meta: "DIR" },
    resume: { type: "string", path: "out", help: "run directory: keeps finished work, so a stopped run goes on where it stopped (outputs go there too)", meta: "DIR" },
  };
}

export function helpOf(cmd: MatrixFreeCommand): string {
  return formatHelp(cmd.name, cmd.summary, cmd.options, cmd.examples);
}

export async function runMatrixFree(cmd: MatrixFreeCommand, argv: readonly string[]): Promise<number> {
  const opts = parseArgs(argv, cmd.options, cmd.name);
  if (opts.help) {
    process.stdout.write(helpOf(cmd));
    return 0;
  }
  const setup = prepareCurvature(opts, argv, cmd.name);
  const own = cmd.settings(opts);
  cmd.check?.(opts, setup);
  // The batches are drawn (and --batch-size checked against the data) before anything starts.
  const batches = opts.batches === undefined
    ? null
    : withFlags(() => miniBatches(setup.loaded.data, { size: Number(opts["batch-size"]), count: Number(opts.batches), seed: Number(opts.seed) }));
  const runDir = opts.resume !== undefined ? openRunDirectory(String(opts.resume), { command: cmd.name, ...setup.settings, ...own }) : null;
  try {
    return await runOpened(cmd, opts, setup, own, runDir, batches);
  } finally {
    runDir?.release();
  }
}

async function runOpened(
  cmd: MatrixFreeCommand,
  opts: ParsedOptions,
  setup: CurvatureSetup,
  own: Record<string, unknown>,
  runDir: { journal: Journal; resumed: boolean } | null,
  batches: readonly Dataset[] | null,
): Promise<number> {
  const t0 = performance.now();
  const built = batches ? [] : [await buildOperator(setup, opts)];
  for (const data of batches ?? []) built.push(await buildOperator(setup, opts, data));
  const bar = progress(cmd.name, { quiet: !!opts.quiet });
  if (runDir?.resumed) bar.done(`resuming from ${opts.resume}`);
  let output: MatrixFreeOutput;
  try {
    if (!batches) output = await cmd.run({ opts, setup, op: built[0].op, journal: runDir?.journal, bar });
    else {
      if (!cmd.runBatches) throw new InputError("--batches", `${cmd.name} does not measure mini-batches`);
      const journal = runDir?.journal;
      output = await cmd.runBatches({
        opts, setup, bar,
        batches: batches.map((data, j) => ({ data, op: built[j].op, journal: journal && prefixedJournal(journal, `batch-${j}-`) })),
      });
    }
  } finally {
    bar.done();
    for (const b of built) {
      b.op.dispose();
      b.problem.dispose();
    }
  }
  const result = {
    command: cmd.name,
    ...setup.settings,
    size: setup.size,
    ...own,
    ...output.result,
    seconds: (performance.now() - t0) / 1000,
  };
  const outDir = opts.out !== undefined ? String(opts.out) : opts.resume !== undefined ? String(opts.resume) : null;
  if (outDir) {
    const files: Record<string, string | Uint8Array> = { [`${cmd.name}.json`]: JSON.stringify(result, null, 2) + "\n", ...output.tables };
    for (const [stem, spec] of Object.entries(output.figures)) {
      const [svg, png] = await Promise.all([toSvg(spec), toPng(spec)]);
      files[`${stem}.svg`] = svg;
      files[`${stem}.png`] = png;
    }
    writeOutputs(outDir, files);
  }
  if (opts.json) process.stdout.write(JSON.stringify(result) + "\n");
  else {
    const head = `${setup.operator}${setup.block ? ` (block ${setup.block})` : ""} of ${setup.loss} for ${setup.settings.model} on ${setup.settings.data} (${setup.size} parameters, ${setup.dtype} on ${setup.device})`;
    const written = [...Object.keys(output.tables ?? {}), ...Object.keys(output.figures).map((f) => `${f}.png`)];
    const tail = outDir ? [`  wrote ${outDir}/${cmd.name}.json${written.map((f) => `, ${f}`).join("")}`] : [];
    process.stdout.write([head, ...output.summary.map((l) => `  ${l}`), ...tail, ""].join("\n"));
  }
  return 0;
}

export function fmt(x: number): string {
  return Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? x.toFixed(4) : x.toExponential(3);
}
