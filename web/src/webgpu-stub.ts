/**
 * Stand-in for the npm package \`webgpu\` (Dawn's Node binding), which src/engine/start.ts loads
 * only under Node to give it a \`navigator.gpu\`. A browser has its own WebGPU, so this is never
 * called in the lab.
 */
export const globals = {};
export function create(): never {
  throw new Error("the npm package `webgpu` is Node-only; the browser lab uses the browser's own WebGPU");
}
