/**
 * Curvature operators by name, as the CLI's `--operator` and `--block` name them.
 */
import { InputError } from "../errors.ts";
import { blockRange } from "../tree/layout.ts";
import { restrictOperator } from "./block.ts";
import { ggnOperator } from "./ggn.ts";
import { empiricalFisherOperator, gradientCovarianceOperator } from "./gradient-covariance.ts";
import { hessianOperator, type HvpMethod } from "./hessian.ts";
import type { LinearOperator } from "./operator.ts";
import type { LossProblem } from "./problem.ts";
import { residualOperator } from "./residual.ts";
import { outputGradientCovarianceOperator } from "./output-gradient-covariance.ts";

export type OperatorName = "hessian" | "ggn" | "fisher" | "gradcov" | "gradcov-uncentered" | "outcov" | "outcov-uncentered" | "residual";
export const OPERATORS: readonly OperatorName[] = ["hessian", "ggn", "fisher", "gradcov", "gradcov-uncentered", "outcov", "outcov-uncentered", "residual"];

export interface CurvatureOptions {
  readonly operator?: OperatorName;
  /** A parameter ("2.weight") or layer ("2") to restrict to. */
  readonly block?: string;
  readonly hvp?: HvpMethod;
}

export function curvatureOperator(problem: LossProblem, opts: CurvatureOptions = {}): LinearOperator {
  const name = opts.operator ?? "hessian";
  // Check the block name before building anything.
  const range = opts.block !== undefined ? blockRange(problem.model.layout, opts.block) : null;
  let op: LinearOperator;
  switch (name) {
    case "hessian":
      op = hessianOperator(problem, { method: opts.hvp });
      break;
    case "ggn":
      op = ggnOperator(problem);
      break;
    case "fisher":
      op = empiricalFisherOperator(problem);
      break;
    case "gradcov":
      op = gradientCovarianceOperator(problem, { centered: true });
      break;
    case "gradcov-uncentered":
      op = gradientCovarianceOperator(problem, { centered: false });
      break;
    case "outcov":
      op = outputGradientCovarianceOperator(problem, { centered: true });
      break;
    case "outcov-uncentered":
      op = outputGradientCovarianceOperator(problem, { centered: false });
      break;
    case "residual":
      op = residualOperator(problem, { method: opts.hvp });
      break;
    default:
      throw new InputError("operator", `expected one of ${OPERATORS.join(", ")}, got "${name}"`, { option: true });
  }
  return range ? restrictOperator(op, range.offset, range.size, opts.block!) : op;
}
