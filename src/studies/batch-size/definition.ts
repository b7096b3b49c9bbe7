/**
 * The batch-size study as `curvlab study batch-size` runs it (src/studies/study.ts): the extreme
 * eigenvalues and spectral densities of mini-batch Hessians and Gauss-Newton matrices against the
 * full-data ones (Granziol, Zohren, Roberts 2020).
 */
import type { StudyDefinition } from "../study.ts";
import { runBatchSizeStudy } from "./run.ts";
import { PART_IDS, PRESETS, checkParts, parseSizes, type BatchSizeStudySettings } from "./settings.ts";
import { optionError } from "../../errors.ts";

export const batchSizeStudy: StudyDefinition<BatchSizeStudySettings> = {
  name: "batch-size",
  summary:
    "Mini-batch curvature (Granziol et al. 2020): extreme eigenvalues and SLQ densities of the Hessian and Gauss-Newton matrix on batches of 16..n rows against the full data, and the largest stable learning rate.",
  partIds: PART_IDS,
  presets: PRESETS,
  examples: [
    "curvlab study batch-size --quick",
    "curvlab study batch-size --quick --parts ggn --sizes 16,64,256 --draws 8",
  ],
  options: {
    sizes: { type: "string", meta: "B,B,...", help: "mini-batch sizes below n (the whole set is always measured; default: 16, 32, 64, ... below n)" },
    draws: { type: "int", meta: "K", help: "independent batches per size (default: 4 quick, 5 full)" },
  },
  configure(settings, values) {
    let s = settings;
    if (values.sizes !== undefined) s = { ...s, sizes: parseSizes(String(values.sizes)) };
    if (values.draws !== undefined) {
      const k = Number(values.draws);
      if (!Number.isInteger(k) || k < 1 || k > 1000) throw optionError("draws", `expected an integer from 1 to 1000, got ${values.draws}`);
      s = { ...s, draws: k };
    }
    return s;
  },
  run: async (settings, opts) =>
    runBatchSizeStudy(settings, {
      journal: opts.journal,
      log: opts.log,
      progress: opts.progress,
      engine: opts.engine,
      parts: opts.parts ? checkParts(opts.parts) : undefined,
    }),
};
