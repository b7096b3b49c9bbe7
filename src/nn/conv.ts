/**
 * 2-D convolution and pooling as PyTorch defines them (cross-correlation; NCHW activations,
 * OIHW kernels), the one place every convolutional model calls, so that how a convolution is
 * computed on this engine is decided here and nowhere else.
 */
import { lax, type Array } from "../engine/jax.ts";

export interface Conv2dOptions {
  /** Stride in both spatial dimensions (default 1). */
  readonly stride?: number;
  /** Zero padding on each side of both spatial dimensions (default 0), as Conv2d(padding=p). */
  readonly padding?: number;
}

/**
 * y = conv2d(x, w): x [n, C, H, W], w [O, C, k, k] -> [n, O, H', W'] with
 * H' = floor((H + 2p - k) / s) + 1. Consumes x and w.
 */
export function conv2d(x: Array, w: Array, opts: Conv2dOptions = {}): Array {
  const s = opts.stride ?? 1;
  const p = opts.padding ?? 0;
  return lax.conv(x, w, [s, s], p === 0 ? "VALID" : [[p, p], [p, p]]);
}

/** MaxPool2d(2): 2x2 windows, stride 2, a trailing odd row/column dropped. Consumes x. */
export function maxPool2(x: Array): Array {
  const [n, c, h, w] = x.shape;
  const h2 = Math.floor(h / 2), w2 = Math.floor(w / 2);
  if (h2 * 2 !== h || w2 * 2 !== w) x = x.slice(null, null, [0, h2 * 2], [0, w2 * 2]);
  return x.reshape([n, c, h2, 2, w2, 2]).max([3, 5]);
}
