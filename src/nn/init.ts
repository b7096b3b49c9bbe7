/**
 * PyTorch's default initialization of Linear and Conv2d: weight and bias uniform in
 * [-1/sqrt(fan_in), 1/sqrt(fan_in)] (kaiming_uniform with a = sqrt(5) reduces to this bound).
 * Drawn from a seeded host generator, block by block in layout order.
 */
import { hostRng } from "../engine/host-rng.ts";
import type { ParamLayout } from "../tree/layout.ts";

export function uniformFanIn(layout: ParamLayout, fanIn: (name: string) => number, seed: number): Float64Array {
  const rng = hostRng(seed);
  const size = layout.reduce((s, p) => s + p.size, 0);
  const out = new Float64Array(size);
  for (const p of layout) {
    const bound = 1 / Math.sqrt(fanIn(p.name));
    for (let i = 0; i < p.size; i++) out[p.offset + i] = (2 * rng.uniform() - 1) * bound;
  }
  return out;
}
