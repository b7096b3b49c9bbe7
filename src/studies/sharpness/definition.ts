/**
 * The sharpness study as `curvlab study sharpness` runs it (src/studies/study.ts): the edge of
 * stability of full-batch GD (Cohen et al. 2021) and the sharp minima of large-batch training
 * (Keskar et al. 2017), with the instruments of src/landscape.
 */
import type { StudyDefinition } from "../study.ts";
import { runSharpnessStudy } from "./run.ts";
import { PART_IDS, PRESETS, checkParts, type SharpnessStudySettings } from "./settings.ts";

export const sharpnessStudy: StudyDefinition<SharpnessStudySettings> = {
  name: "sharpness",
  summary:
    "Sharpness (Cohen et al. 2021; Keskar et al. 2017): full-batch GD sharpens to the edge of stability 2/lr; large-batch minima are sharper and generalize worse.",
  partIds: PART_IDS,
  presets: PRESETS,
  examples: ["curvlab study sharpness --quick", "curvlab study sharpness --parts eos --out runs/sharp"],
  // async: a bad --parts value rejects the promise, as every other failure does.
  run: async (settings, opts) =>
    runSharpnessStudy(settings, {
      journal: opts.journal,
      log: opts.log,
      progress: opts.progress,
      engine: opts.engine,
      parts: opts.parts ? checkParts(opts.parts) : undefined,
    }),
};
