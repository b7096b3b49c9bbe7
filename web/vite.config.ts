/**
 * Vite config of the curvlab browser lab (`npm run lab` serves it, `npm run lab:build` writes
 * web/dist). The lab imports the library's modules from ../src, the sources that dist/ (the npm
 * package's build, `npm run build`) is compiled from, so it needs no build of its own and cannot
 * see a stale dist/; it imports the modules it uses rather than the package entry, which also
 * brings the Node-only renderers (resvg, fonts). The few Node built-ins that library modules
 * import for their Node-only paths (file reading, worker_threads, zlib) resolve to
 * web/src/node-stub.ts, and the npm package `webgpu` (Node's Dawn binding) to
 * web/src/webgpu-stub.ts; their functions throw if ever called in the page. The servers send
 * the cross-origin-isolation headers so that SharedArrayBuffer exists: the Cancel button reaches
 * a busy compute worker through a shared flag, and jax-js can run its Wasm kernels on a worker
 * pool (`?threads=N`, see src/worker-threads.ts).
 */
import { defineConfig } from "vite";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const stub = fileURLToPath(new URL("./src/node-stub.ts", import.meta.url));
const isolation = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

export default defineConfig({
  root: here,
  base: "./",
  resolve: {
    alias: [
      { find: /^node:(fs|fs\/promises|path|module|zlib|worker_threads|buffer|os|url)$/, replacement: stub },
      // The npm package `webgpu` (Dawn) is how Node gets WebGPU; a browser has its own.
      { find: /^webgpu$/, replacement: fileURLToPath(new URL("./src/webgpu-stub.ts", import.meta.url)) },
    ],
  },
  server: { host: "127.0.0.1", headers: isolation, fs: { allow: [fileURLToPath(new URL("..", import.meta.url))] } },
  preview: { host: "127.0.0.1", headers: isolation },
  worker: { format: "es" },
  optimizeDeps: { include: ["vega", "vega-lite", "@jax-js/jax", "@jax-js/onnx", "onnx-buf", "@bufbuild/protobuf"] },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", chunkSizeWarningLimit: 4000 },
});
