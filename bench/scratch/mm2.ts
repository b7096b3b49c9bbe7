// Scratch: matmul [L, C] @ [O, C]^T on a contiguous array vs on an offset row slice.
import { startEngine } from "../../src/engine/start.ts";
import { numpy as np, jit, type Array } from "../../src/engine/jax.ts";
import { printProfile } from "./kprof.ts";
await startEngine();
const L = Number(process.argv[2] ?? 82944), C = Number(process.argv[3] ?? 32), O = Number(process.argv[4] ?? 32);
const arr = (shape: number[]) => np.array(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i))).reshape(shape);
const x = arr([L + 40, C]), w = arr([O, C]), ct = arr([L, O]);
const xc = x.ref.slice([0, L]).mul(1);
await printProfile("contiguous x @ w^T", () => np.matmul(xc.ref, w.ref.transpose()), 3);
await printProfile("offset-0 slice x @ w^T", () => np.matmul(x.ref.slice([0, L]), w.ref.transpose()), 3);
await printProfile("offset-37 slice x @ w^T", () => np.matmul(x.ref.slice([37, 37 + L]), w.ref.transpose()), 3);
await printProfile("offset-32 slice x @ w^T", () => np.matmul(x.ref.slice([32, 32 + L]), w.ref.transpose()), 3);
await printProfile("dW contiguous: ct^T @ x", () => np.matmul(ct.ref.transpose(), xc.ref), 3);
await printProfile("dW offset 37: ct^T @ x", () => np.matmul(ct.ref.transpose(), x.ref.slice([37, 37 + L])), 3);
await printProfile("dx: ct @ w", () => np.matmul(ct.ref, w.ref), 3);
const big = arr([1024, 1024]);
await printProfile("1024^3", () => np.matmul(big.ref, big.ref), 3);
process.exit(0);
