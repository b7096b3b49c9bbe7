/** The intrinsic-dimension study as `curvlab study intrinsic-dim` runs it (src/studies/study.ts). */
import type { StudyDefinition } from "../study.ts";
import { runIntrinsicDimStudy } from "./run.ts";
import { PRESETS, type IntrinsicDimStudySettings } from "./settings.ts";

export const intrinsicDimStudy: StudyDefinition<IntrinsicDimStudySettings> = {
  name: "intrinsic-dim",
  summary:
    "Intrinsic dimension (Li et al. 2018): train MNIST MLPs of several widths in random subspaces, find d_int90 per width and how much it varies with width.",
  partIds: ["all"],
  presets: PRESETS,
  examples: ["curvlab study intrinsic-dim --quick", "curvlab study intrinsic-dim --out runs/id"],
  run: (settings, opts) => runIntrinsicDimStudy(settings, opts),
};
