/**
 * A browser-style global `Worker` for Node, over `node:worker_threads`, so that jax-js's Wasm
 * backend can run its kernels on a pool of threads sharing one WebAssembly.Memory (it looks for
 * `SharedArrayBuffer` and `Worker`, then starts `navigator.hardwareConcurrency` workers from a
 * Blob URL whose script sets `self.onmessage` and calls `postMessage`).
 *
 * The Blob's text can only be read asynchronously, so each worker starts with a small bootstrap
 * that waits for the script as its first message; messages posted before the script is sent are
 * queued here, in order. Each message jax-js posts gets exactly one reply, so a worker is ref'd
 * while replies are outstanding and unref'd otherwise: pending work keeps the process alive, and
 * idle workers never keep a finished process from exiting.
 */
import { Worker as NodeWorker } from "node:worker_threads";
import { resolveObjectURL } from "node:buffer";

const BOOTSTRAP = `
const { parentPort } = require("node:worker_threads");
globalThis.self = globalThis;
globalThis.postMessage = (m) => parentPort.postMessage(m);
parentPort.once("message", (source) => {
  (0, eval)(source);
  parentPort.on("message", (data) => self.onmessage && self.onmessage({ data }));
  parentPort.postMessage({ __bootstrapped: true });
});
`;

type Listener = ((e: { data: unknown; message?: string }) => void) | null;

export class NodeWebWorker {
  onmessage: Listener = null;
  onerror: Listener = null;
  #worker: NodeWorker;
  #pending: unknown[] | null = [];
  #outstanding = 0;

  constructor(url: string | URL) {
    this.#worker = new NodeWorker(BOOTSTRAP, { eval: true });
    this.#worker.on("message", (data: unknown) => {
      if (data && typeof data === "object" && "__bootstrapped" in data) return;
      if (--this.#outstanding === 0) this.#worker.unref();
      this.onmessage?.({ data });
    });
    this.#worker.on("error", (err: Error) => this.onerror?.({ data: undefined, message: err.message }));
    this.#worker.unref(); // after the listeners: adding a "message" listener refs the port again
    void this.#loadSource(String(url));
  }

  async #loadSource(url: string): Promise<void> {
    let source: string;
    if (url.startsWith("blob:")) {
      const blob = resolveObjectURL(url);
      if (!blob) throw new Error(`worker script not found: ${url}`);
      source = await blob.text();
    } else if (url.startsWith("data:")) {
      source = decodeURIComponent(url.slice(url.indexOf(",") + 1));
    } else {
      throw new Error(`unsupported worker URL: ${url}`);
    }
    this.#worker.postMessage(source);
    for (const m of this.#pending ?? []) this.#worker.postMessage(m);
    this.#pending = null;
  }

  postMessage(message: unknown): void {
    if (this.#outstanding++ === 0) this.#worker.ref();
    if (this.#pending) this.#pending.push(message);
    else this.#worker.postMessage(message);
  }

  terminate(): void {
    void this.#worker.terminate();
  }
}
