/**
 * The `curvlab` command: subcommands are files in this folder, thin over the library. Bad input
 * (InputError) prints one line `curvlab: <input>: <what was expected>` and exits with code 2; so
 * does a filesystem error (EEXIST, ENOTDIR, EACCES, ENOSPC, EROFS, ...: one line naming the path).
 * Anything else is a bug: one line `curvlab: internal error: <message>` and exit code 70
 * (EX_SOFTWARE); the stack trace only with CURVLAB_DEBUG=1. `--version` prints the
 * version of package.json (two folders up from src/cli/ in the repository and from dist/cli/ in the
 * installed package).
 */
import { readFileSync } from "node:fs";
import { InputError } from "../errors.ts";
import { cliMessage } from "./flags.ts";
import { debugSetting } from "../engine/setup.ts";
import { formatRows, wrapText, HELP_WIDTH } from "./args.ts";
import { fsErrorCode, fsInputError } from "./paths.ts";

/** Exit codes: bad input (and filesystem refusals), and internal errors (sysexits EX_SOFTWARE). */
export const EXIT_INPUT = 2;
export const EXIT_INTERNAL = 70;

async function matrixFree(cmd: import("./matrix-free.ts").MatrixFreeCommand, argv: readonly string[]): Promise<number> {
  return (await import("./matrix-free.ts")).runMatrixFree(cmd, argv);
}

interface Command {
  readonly summary: string;
  run(argv: readonly string[]): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  study: {
    summary: "reproduce a study from one command, with a report: hessian (Sagun et al. 2017), intrinsic-dim, coherence, sharpness, batch-size",
    run: async (argv) => (await import("./study.ts")).studyCommand(argv),
  },
  train: {
    summary: "train a model on a dataset; write a checkpoint (safetensors + JSON)",
    run: async (argv) => (await import("./train.ts")).trainCommand(argv),
  },
  hessian: {
    summary: "all eigenvalues of the Hessian (or Gauss-Newton, Fisher, ...) of a small model, exactly",
    run: async (argv) => (await import("./hessian.ts")).hessianCommand(argv),
  },
  spectrum: {
    summary: "the K largest or smallest eigenvalues by Lanczos (or power iteration), any model size",
    run: async (argv) => matrixFree((await import("./spectrum.ts")).spectrumCommand, argv),
  },
  density: {
    summary: "spectral density by stochastic Lanczos quadrature, any model size",
    run: async (argv) => matrixFree((await import("./density.ts")).densityCommand, argv),
  },
  trace: {
    summary: "trace by Hutchinson, Hutch++ or XTrace, with standard errors",
    run: async (argv) => matrixFree((await import("./trace.ts")).traceCommand, argv),
  },
  diag: {
    summary: "diagonal by Hutchinson, XDiag or exactly, with per-layer summaries",
    run: async (argv) => matrixFree((await import("./diag.ts")).diagCommand, argv),
  },
  landscape: {
    summary: "1-D/2-D loss and accuracy slices: filter-normalized random, Hessian-eigenvector or trajectory-PCA directions",
    run: async (argv) => (await import("./landscape.ts")).landscapeCommand(argv),
  },
  interpolate: {
    summary: "loss and accuracy on the line between two checkpoints, barrier height, optional weight matching",
    run: async (argv) => (await import("./interpolate.ts")).interpolateCommand(argv),
  },
  sharpness: {
    summary: "top eigenvalue, trace, epsilon-sharpness, SAM worst case and linear stability at a point",
    run: async (argv) => (await import("./sharpness.ts")).sharpnessCommand(argv),
  },
  align: {
    summary: "Hessian and gradient alignment of two datasets at one point (classifier head; Hutchinson estimates)",
    run: async (argv) => (await import("./align.ts")).alignCommand(argv),
  },
};

export const MAIN_HELP = [
  "usage: curvlab <command> [options]",
  "       curvlab --version",
  "",
  ...wrapText("Geometry of neural-network loss landscapes: Hessian spectra and their relatives.", HELP_WIDTH),
  "",
  "commands:",
  ...formatRows(Object.entries(COMMANDS).map(([name, c]): [string, string] => [`  ${name}`, c.summary])),
  "",
  "Run `curvlab <command> --help` for the options of a command.",
  "",
].join("\n");

/** The package's version, from its package.json. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === "--help" || name === "-h" || name === "help") {
      process.stdout.write(MAIN_HELP);
      return name === undefined ? 2 : 0;
    }
    if (name === "--version" || name === "-V" || name === "version") {
      process.stdout.write(`curvlab ${version()}\n`);
      return 0;
    }
    const command = COMMANDS[name];
    if (!command) throw new InputError(name, `unknown command; expected one of ${Object.keys(COMMANDS).join(", ")}`);
    return await command.run(rest);
  } catch (e) {
    return reportError(e);
  }
}

/** Prints an error thrown by a command (one line; the trace only with CURVLAB_DEBUG=1) and returns the exit code. */
export function reportError(e: unknown): number {
  const debug = debugSetting();
  const err = !(e instanceof InputError) && fsErrorCode(e) !== undefined && (e as NodeJS.ErrnoException).path
    ? fsInputError(e, String((e as NodeJS.ErrnoException).path), "write")
    : e;
  if (err instanceof InputError) {
    process.stderr.write(`curvlab: ${oneLine(cliMessage(err))}\n`);
    if (debug && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    return EXIT_INPUT;
  }
  const message = e instanceof Error ? e.message : String(e);
  if (debug) {
    process.stderr.write(`curvlab: internal error: ${e instanceof Error ? (e.stack ?? message) : message}\n`);
  } else {
    process.stderr.write(`curvlab: internal error: ${oneLine(message)} (rerun with CURVLAB_DEBUG=1 for the stack trace)\n`);
  }
  return EXIT_INTERNAL;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}
