import { test } from "node:test";
import assert from "node:assert/strict";
import { openSession, sharedFloat64, teamsAvailable, type TeamArg } from "../../../src/linalg/dense/row-team.ts";
import { assembleModule, op } from "../../../src/linalg/dense/wasm-assembler.ts";

/** Marks rows [r0, r1) of `out` with `mark`, and counts visits (a self-contained kernel). */
function markRows(out: Float64Array, visits: Float64Array, mark: number, r0: number, r1: number, first: number): void {
  for (let r = r0; r < r1; r++) {
    out[r] += mark;
    visits[r] += 1;
  }
  if (first) visits[visits.length - 1] += 1; // one per helper and command
}

const skip = !teamsAvailable() && "no worker threads here";

test("row-team: every chunk runs exactly once, on the caller or a helper", { skip }, () => {
  const rows = 1000;
  const helpers = 2;
  const out = sharedFloat64(rows);
  const visits = Array.from({ length: helpers + 1 }, () => sharedFloat64(rows + 1));
  const session = openSession("row-team-test", [markRows], visits.slice(1).map((v) => [out, v]));
  assert.ok(session, "a session opens where worker threads exist");
  try {
    const chunks = 37;
    const bounds = Array.from({ length: chunks + 1 }, (_, c) => Math.round((rows * c) / chunks));
    for (let cmd = 1; cmd <= 50; cmd++) {
      const args: TeamArg[][] = Array.from({ length: helpers }, () => [{ array: 0 }, { array: 1 }, cmd]);
      const took: boolean[] = session.run(0, args, bounds, chunks, (r0, r1) => markRows(out, visits[0], cmd, r0, r1, 0));
      assert.equal(took.length, helpers);
      // Each helper counts one "first" per command it took part in.
      for (let h = 0; h < helpers; h++) if (took[h]) visits[h + 1][rows] -= 1;
    }
  } finally {
    session.close();
  }
  const total = (50 * 51) / 2;
  for (let r = 0; r < rows; r++) {
    assert.equal(out[r], total, `row ${r}`);
    assert.equal(visits.reduce((s, v) => s + v[r], 0), 50, `row ${r} visits`);
  }
  for (let h = 1; h <= helpers; h++) assert.equal(visits[h][rows], 0, "participation reported exactly");
});

test("row-team: no session for arrays that are not shared", { skip }, () => {
  assert.equal(openSession("row-team-test", [markRows], [[new Float64Array(4), sharedFloat64(4)]]), null);
});

/** Adds 1 to doubles [r0, r1) of the module's memory through its exported `mark` (self-contained). */
function wasmMark(memory: WebAssembly.Memory, module: WebAssembly.Module, r0: number, r1: number, _first: number): void {
  const exports = new WebAssembly.Instance(module, { env: { memory } }).exports as { mark(r0: number, r1: number): void };
  exports.mark(r0, r1);
}

test("row-team: helpers run WebAssembly kernels on a shared WebAssembly.Memory", { skip }, () => {
  // mark(r0, r1): for (r = r0; r < r1; r++) f64[r] += 1
  const { get, set } = op;
  const body = [
    ...op.block(), ...op.loop(),
    ...get(0), ...get(1), ...op.i32LtS(), ...op.i32Eqz(), ...op.brIf(1),
    ...get(0), ...op.i32(3), ...op.i32Shl(), ...op.tee(2),
    ...get(2), ...op.f64Load(), ...op.f64(1), ...op.f64Add(), ...op.f64Store(),
    ...get(0), ...op.i32(1), ...op.i32Add(), ...set(0),
    ...op.br(0), ...op.end(), ...op.end(),
  ];
  const bytes = assembleModule([{ name: "mark", params: ["i32", "i32"], locals: ["i32"], body }], { minPages: 1, maxPages: 1, shared: true });
  const module = new WebAssembly.Module(bytes);
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  const rows = 2000;
  const helpers = 2;
  const session = openSession("row-team-wasm-test", [wasmMark], Array.from({ length: helpers }, () => [memory, module]));
  assert.ok(session, "a session opens with a shared memory and a module");
  try {
    const chunks = 40;
    const bounds = Array.from({ length: chunks + 1 }, (_, c) => Math.round((rows * c) / chunks));
    const args: TeamArg[][] = Array.from({ length: helpers }, () => [{ array: 0 }, { array: 1 }]);
    for (let cmd = 0; cmd < 20; cmd++) {
      session.run(0, args, bounds, chunks, (r0, r1) => wasmMark(memory, module, r0, r1, 0));
    }
  } finally {
    session.close();
  }
  const F = new Float64Array(memory.buffer, 0, rows);
  for (let r = 0; r < rows; r++) assert.equal(F[r], 20, `row ${r}`);
});

test("row-team: no session for a WebAssembly.Memory that is not shared", { skip }, () => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
  assert.equal(openSession("row-team-test", [markRows], [[memory]]), null);
});

/** Throws on every chunk (self-contained). */
function failing(_out: Float64Array, _r0: number, _r1: number, _first: number): void {
  throw new Error("kernel failure");
}

test("row-team: a helper's failing kernel makes run throw instead of hanging; the team recovers", { skip }, () => {
  const out = sharedFloat64(8);
  const session = openSession("row-team-fail-test", [failing], [[out]]);
  assert.ok(session, "a session opens");
  const chunks = 20;
  const bounds = Array.from({ length: chunks + 1 }, (_, c) => c);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  // The caller's own chunks are slow, so the helper surely claims some.
  const own = () => void Atomics.wait(pause, 0, 0, 10);
  assert.throws(() => session.run(0, [[{ array: 0 }]], bounds, chunks, own), /helper's kernel failed/);
  const again = openSession("row-team-fail-test", [failing], [[out]]);
  assert.ok(again, "a fresh team after the failure");
  again.close();
});
