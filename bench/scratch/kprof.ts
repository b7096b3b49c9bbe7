/**
 * Scratch helper: per-kernel times of one call, from jax-js's profiler traces (performance.measure
 * entries). Kernel times are exact only with CURVLAB_THREADS=1 (dispatch is synchronous there).
 */
import { profiler, type Array } from "../../src/engine/jax.ts";

export interface KernelTime { label: string; ms: number; count: number; exp: string; reduction: string }

export async function kernelProfile(f: () => Array, top = 15, expChars = 160): Promise<{ total: number; kernels: KernelTime[] }> {
  performance.clearMeasures();
  profiler.startTrace();
  const t0 = performance.now();
  const r = f();
  await r.blockUntilReady();
  const total = performance.now() - t0;
  profiler.stopTrace();
  r.dispose();
  const groups = new Map<string, KernelTime>();
  for (const e of performance.getEntriesByType("measure")) {
    const props = ((e as PerformanceMeasure).detail as { devtools?: { properties?: [string, string][] } })?.devtools?.properties ?? [];
    const p = Object.fromEntries(props);
    const key = `${e.name} ${p.reduction ?? ""} ${p.exp ?? ""}`;
    const g = groups.get(key) ?? { label: e.name, ms: 0, count: 0, exp: (p.exp ?? "").slice(0, expChars), reduction: p.reduction ?? "" };
    g.ms += e.duration;
    g.count++;
    groups.set(key, g);
  }
  performance.clearMeasures();
  const kernels = [...groups.values()].sort((a, b) => b.ms - a.ms);
  return { total, kernels: kernels.slice(0, top) };
}

export async function printProfile(label: string, f: () => Array, top = 12): Promise<void> {
  await (async () => { const r = f(); await r.blockUntilReady(); r.dispose(); })();
  const { total, kernels } = await kernelProfile(f, 1000);
  const sum = kernels.reduce((a, k) => a + k.ms, 0);
  console.log(`--- ${label}: ${total.toFixed(1)} ms wall, ${sum.toFixed(1)} ms in ${kernels.reduce((a, k) => a + k.count, 0)} kernels`);
  for (const k of kernels.slice(0, top)) {
    console.log(`${k.ms.toFixed(1).padStart(8)} ms x${String(k.count).padEnd(3)} ${k.label.padEnd(16)} ${k.reduction.padEnd(10)} ${k.exp}`);
  }
}
