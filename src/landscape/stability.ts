/**
 * Linear stability of a minimum under the optimizer that trains at it: whether small
 * perturbations of theta grow under the optimizer's iteration on the quadratic model of the loss.
 *
 * Gradient descent, lr eta: e_{t+1} = (I - eta H) e_t is stable iff |1 - eta lambda_i| <= 1 for
 * every eigenvalue, i.e. (H positive semidefinite at a minimum) lambda_max <= 2 / eta. Heavy-ball
 * momentum beta (PyTorch's SGD momentum, optimizers.ts, is heavy ball with the same lr):
 * e_{t+1} = e_t - eta H e_t + beta (e_t - e_{t-1}); along an eigenvector the characteristic
 * polynomial z^2 - (1 + beta - eta lambda) z + beta has a root at z = -1 when
 * eta lambda = 2 + 2 beta, so stable iff lambda_max <= (2 + 2 beta) / eta. Cohen, Kaur, Li,
 * Kolter & Talwalkar, "Gradient Descent on Neural Networks Typically Occurs at the Edge of
 * Stability" (ICLR 2021) show full-batch GD drives lambda_max up to 2 / eta (progressive
 * sharpening) and then hovers there (the edge of stability); their appendix gives the momentum
 * threshold. The boundary counts as stable (|1 - eta lambda| = 1 oscillates without growing):
 * verdicts flip exactly when lambda_max passes the threshold.
 *
 * SGD: Wu, Ma & E, "How SGD Selects the Global Minima in Over-parameterized Learning: A Dynamical
 * Stability Perspective" (NeurIPS 2018) linearize SGD at a global minimum where every example's
 * loss is minimal (interpolation): e_{t+1} = (I - eta H_B) e_t, H_B the minibatch Hessian, and
 * ask for stability of the second moment E||e_t||^2. Their condition involves the sharpness
 * lambda_max and the non-uniformity of the per-example Hessians H_i, which this instrument does
 * not compute. The check here is the trace form derived from the same dynamics:
 *   E||e_{t+1}||^2 <= E||e_t||^2 for every e_t  iff  2 H - eta E[H_B^2] is PSD,
 * and with PSD per-example Hessians E[H_B^2] <= mean_i H_i^2 (operator convexity of t^2)
 * <= max_i tr(H_i) H (since H_i^2 <= lambda_max(H_i) H_i <= tr(H_i) H_i), so
 *   eta max_i tr(H_i) <= 2  is SUFFICIENT for mean-square stability, for any batch size.
 * We report `trace <= 2 / lr` with tr(H) = mean_i tr(H_i) in place of max_i tr(H_i): exactly the
 * sufficient condition when per-example curvature is uniform (equal tr(H_i)), and otherwise a
 * necessary condition for that sufficient bound to hold (a screen, not a proof). tr(H) <= 2 / lr
 * also implies the GD condition (lambda_max <= tr(H) for PSD H).
 */
import { InputError } from "../errors.ts";
import type { Objective } from "./objective.ts";
import { hessianTrace, topEigenvalue, type HessianTrace, type HessianTraceOptions, type TopEigenvalue, type TopEigenvalueOptions } from "./sharpness.ts";

export interface StabilityVerdict {
  /** What was compared: "lambda_max" or "trace". */
  readonly quantity: "lambda_max" | "trace";
  readonly value: number;
  /** The threshold it is compared against. */
  readonly threshold: number;
  /** value <= threshold. */
  readonly stable: boolean;
  /** value / threshold (> 1: unstable). */
  readonly ratio: number;
  readonly rule: string;
  readonly lr: number;
  readonly momentum: number;
}

function checkLr(lr: number, momentum: number): void {
  if (!(Number.isFinite(lr) && lr > 0)) throw new InputError("lr", `expected a positive learning rate, got ${lr}`);
  if (!(momentum >= 0 && momentum < 1)) throw new InputError("momentum", `expected a momentum in [0, 1), got ${momentum}`);
}

/** The largest stable lambda_max for GD (momentum 0) or heavy ball: (2 + 2 beta) / lr. */
export function gdThreshold(lr: number, momentum = 0): number {
  checkLr(lr, momentum);
  return (2 + 2 * momentum) / lr;
}

/** GD / heavy-ball linear stability: lambda_max <= (2 + 2 beta) / lr. */
export function gdStability(lambdaMax: number, lr: number, momentum = 0): StabilityVerdict {
  const threshold = gdThreshold(lr, momentum);
  return {
    quantity: "lambda_max",
    value: lambdaMax,
    threshold,
    stable: lambdaMax <= threshold,
    ratio: lambdaMax / threshold,
    rule: momentum === 0 ? "lambda_max <= 2 / lr (GD)" : "lambda_max <= (2 + 2 momentum) / lr (heavy ball)",
    lr,
    momentum,
  };
}

/** The SGD trace check (module comment): tr(H) <= 2 / lr. */
export function sgdTraceStability(trace: number, lr: number): StabilityVerdict {
  const threshold = gdThreshold(lr, 0);
  return {
    quantity: "trace",
    value: trace,
    threshold,
    stable: trace <= threshold,
    ratio: trace / threshold,
    rule: "tr(H) <= 2 / lr (mean-square SGD stability when per-example curvature is uniform; Wu, Ma & E 2018 dynamics)",
    lr,
    momentum: 0,
  };
}

export interface LinearStabilityOptions {
  readonly lr: number;
  /** Heavy-ball momentum (default 0). */
  readonly momentum?: number;
  /** Also estimate tr(H) and apply the SGD trace check (default true). */
  readonly trace?: boolean;
  readonly lanczos?: TopEigenvalueOptions;
  readonly traceOptions?: HessianTraceOptions;
}

export interface LinearStability {
  readonly gd: StabilityVerdict;
  readonly sgd: StabilityVerdict | null;
  readonly topEigenvalue: TopEigenvalue;
  readonly trace: HessianTrace | null;
  readonly seconds: number;
}

/** Both verdicts at theta: lambda_max by Lanczos, tr(H) by Hutchinson (sharpness.ts). */
export async function linearStability(objective: Objective, theta: ArrayLike<number>, opts: LinearStabilityOptions): Promise<LinearStability> {
  const t0 = performance.now();
  const momentum = opts.momentum ?? 0;
  checkLr(opts.lr, momentum);
  const top = await topEigenvalue(objective, theta, opts.lanczos);
  const tr = opts.trace === false ? null : await hessianTrace(objective, theta, opts.traceOptions);
  return {
    gd: gdStability(top.value, opts.lr, momentum),
    sgd: tr ? sgdTraceStability(tr.value, opts.lr) : null,
    topEigenvalue: top,
    trace: tr,
    seconds: (performance.now() - t0) / 1000,
  };
}
