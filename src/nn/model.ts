/**
 * A model is a pure function of a flat parameter vector and a batch of inputs, plus the layout
 * that names the blocks of that vector after the equivalent PyTorch module's `state_dict`, so
 * weights move between curvlab and PyTorch through safetensors unchanged.
 *
 * Models with BatchNorm also hold buffers (running statistics): named like the state_dict's
 * buffers, fixed values the model is bound to, never parameters, so curvature is taken over the
 * parameters only. `withBuffers` gives the same model bound to other values (e.g. those loaded
 * with the weights); see batchnorm.ts for the two BatchNorm semantics.
 */
import type { Array } from "../engine/jax.ts";
import type { ParamLayout } from "../tree/layout.ts";
import type { BatchNormMode } from "./batchnorm.ts";

export interface ModelBuffers {
  /** Names and shapes of the state_dict's buffers, in state_dict order (e.g. "bn1.running_mean"). */
  readonly layout: ParamLayout;
  /** The values the model is bound to, flat in layout order (host, float64). */
  readonly values: Float64Array;
  /** How the model's BatchNorm layers use them (batchnorm.ts): `eval` reads them, `batch` does not. */
  readonly batchNorm: BatchNormMode;
}

export interface Model {
  /** The spec string it was built from, e.g. "mlp:784-100-10:tanh". */
  readonly spec: string;
  /** Shape of one input example, e.g. [784] or [1, 28, 28]. */
  readonly inputShape: readonly number[];
  /** Number of outputs (logits) per example. */
  readonly outputDim: number;
  readonly layout: ParamLayout;
  /** Number of parameters. */
  readonly size: number;
  /** The PyTorch module this model equals, for documentation and fixtures. */
  readonly torch: string;
  /**
   * Outputs [batch, outputDim] for inputs [batch, ...inputShape] (or [batch, prod(inputShape)]).
   * Consumes `theta` and `x` (jax-js ownership rules).
   */
  apply(theta: Array, x: Array): Array;
  /**
   * Floats in the outputs of the model's layers (convolutions, attention, linear maps) for one
   * example: how the memory of its derivatives grows with the batch (curvature/hessian.ts sizes
   * its batches with it). Absent where unknown.
   */
  readonly activationsPerExample?: number;
  /** What the user should know about how this model was built (e.g. an ONNX export that folded BatchNorm); the CLI prints them. */
  readonly warnings?: readonly string[];
  /** The model's own default initialization of the parameters, seeded (documented per model). */
  init(seed: number): Float64Array;
  /** Buffers (running statistics), for models that have them; absent otherwise. */
  readonly buffers?: ModelBuffers;
  /** The same model bound to these buffer values (length of buffers.layout). Only with buffers. */
  withBuffers?(values: ArrayLike<number>): Model;
  /**
   * One training-mode forward pass over x: this batch's statistics as a flat vector in the buffer
   * layout (running_mean = batch mean, running_var = unbiased batch variance,
   * num_batches_tracked = 1). Only with buffers. Consumes theta and x.
   */
  batchStatistics?(theta: Array, x: Array): Array;
}
