/**
 * A model is a pure function of a flat parameter vector and a batch of inputs, plus the layout
 * that names the blocks of that vector after the equivalent PyTorch `nn.Sequential`'s
 * `state_dict`, so weights move between curvlab and PyTorch through safetensors unchanged.
 */
import type { Array } from "../engine/jax.ts";
import type { ParamLayout } from "../tree/layout.ts";

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
  /** What the user should know about how this model was built (e.g. an ONNX export that folded BatchNorm); the CLI prints them. */
  readonly warnings?: readonly string[];
  /** PyTorch's default initialization (uniform in +-1/sqrt(fan_in)), seeded. */
  init(seed: number): Float64Array;
}
