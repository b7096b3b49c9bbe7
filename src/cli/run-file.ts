/**
 * The types of DIR/run.json, the settings a run directory was started with: one per matrix-free
 * command (each command's file defines its own, from MatrixFreeRunFile) and the studies' one.
 * Types only, apart from run-directory.ts (which reads and writes run.json and knows no command),
 * so that the commands -> matrix-free.ts -> run-directory.ts imports form no cycle.
 * schemas/run.schema.json is generated from RunFile.
 */
import type { SpectrumRunFile } from "./spectrum.ts";
import type { DensityRunFile } from "./density.ts";
import type { TraceRunFile } from "./trace.ts";
import type { DiagRunFile } from "./diag.ts";

/** run.json of `curvlab study NAME --out DIR`: the study and its settings (preset and seed). */
export interface StudyRunFile {
  readonly study: string;
  readonly settings: { readonly seed: number; readonly [setting: string]: unknown };
}

/**
 * DIR/run.json: the settings a run directory was started with (`--resume DIR` of the matrix-free
 * commands, or a study's --out folder).
 */
export type RunFile = SpectrumRunFile | DensityRunFile | TraceRunFile | DiagRunFile | StudyRunFile;
