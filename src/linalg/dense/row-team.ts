/**
 * A small team of helper threads for synchronous, step-by-step kernels on shared memory.
 *
 * Why: the dense eigensolver is a sequence of ~n passes over a matrix, each splittable by rows,
 * with a cheap serial step between passes. A helper thread that stays inside a "session" and is
 * woken through Atomics for every pass costs some microseconds per step, small next to a pass
 * over a matrix of a few hundred rows or more.
 *
 * How: helpers are Node `worker_threads` compiled from the source text of self-contained kernel
 * functions (no imports, no references outside their own body). A session shares a list of
 * arrays (on SharedArrayBuffers; also shared WebAssembly memories and compiled modules, so that
 * kernels can run Wasm code on shared data) with each helper once. Each command then publishes a
 * kernel number, its arguments (numbers, or references to the session's arrays) and the
 * boundaries of a few chunks of rows; the caller claims chunks from the front and the helpers
 * from the back of the list, one at a time, until none is left. This is dynamic scheduling (a
 * helper that the OS does not run, on a busy machine, costs at most the chunk it holds, never a
 * fixed half of the work) that still keeps each thread on mostly the same rows from one pass to
 * the next, so that they stay in its own caches. The caller blocks with Atomics.wait, which Node allows on its main
 * thread.
 *
 * Kernel convention: kernel(...args, r0, r1, first), where [r0, r1) is the chunk and `first` is
 * 1 on the first chunk a helper takes in a command (for per-helper set-up such as zeroing its own
 * accumulator); the caller's share runs through a callback instead and never gets `first`.
 *
 * Where helpers are not available (browsers, runtimes without `process.getBuiltinModule`, a
 * helper that does not answer the start-up handshake), `openSession` returns null and callers run
 * serially. Helpers are unref'd: they never keep a process alive. A kernel that throws in a
 * helper makes `run` throw (the chunk is not redone) and the team is rebuilt on next use, so a
 * failure is never a hang.
 */
import type { Worker } from "node:worker_threads";

/** Signature shared by team kernels: positional typed arrays and numbers. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TeamKernel = (...args: any[]) => void;

/**
 * What a session may share with a helper: arrays on SharedArrayBuffers, shared WebAssembly
 * memories (their buffers are SharedArrayBuffers), and compiled WebAssembly modules (so that a
 * kernel can instantiate them on a shared memory).
 */
export type SessionValue = Float64Array | WebAssembly.Memory | WebAssembly.Module;

/** True for values that can be shared with a helper (see SessionValue). */
function sharable(x: SessionValue): boolean {
  if (typeof WebAssembly === "object") {
    if (x instanceof WebAssembly.Module) return true;
    if (x instanceof WebAssembly.Memory) return x.buffer instanceof SharedArrayBuffer;
  }
  return x instanceof Float64Array && x.buffer instanceof SharedArrayBuffer;
}

/** A kernel argument: a number, or `{ array: i }` for the i-th value of the helper's session. */
export type TeamArg = number | { readonly array: number };

// Per-helper control words (Int32Array on a SharedArrayBuffer).
const SEQ = 0; // command counter, written by the caller
const STATE = 1; // session handshake: 0 pending, 1 helper ready, 2 cancelled by the caller
const CMD = 2; // kernel index, or -1 to end the session
const NARGS = 3; // number of arguments
const PART = 4; // last command in which this helper took a chunk
const FAILED = 5; // set by a helper whose kernel threw (the chunk then counts as done, undone)
const CTRL_WORDS = 8;
// Job words shared by all threads of a session (the claim word is a separate BigInt64Array).
const COMPLETED = 0; // chunks finished
const JOB_WORDS = 2;

const MAX_ARGS = 16; // each argument: (kind, value) in a Float64Array; kind 0 number, 1 array
/** Most chunks per command. */
export const MAX_CHUNKS = 1024;
const HANDSHAKE_MS = 10_000;
/**
 * Milliseconds to poll a shared word before sleeping in Atomics.wait. Short: waking a sleeping
 * thread costs tens of microseconds, but a polling thread takes execution resources from the
 * working one when both share a core (hyper-threads, or busy virtual machines).
 */
const SPIN_MS = 0.02;

// Claim word (BigInt64): command seq << 32 | front << 16 | back. The caller claims chunks from the
// front, helpers from the back, so that from one pass to the next each thread mostly works on the
// same rows (they stay in its caches); they meet wherever the work balances. The full seq in the
// word means a helper that is late for a command can never claim a chunk of a later one.
// Shared by the helper source and the caller (keep it self-contained).
function claim(word: BigInt64Array, seq: number, fromBack: number): number {
  const tag = BigInt(seq);
  for (;;) {
    const w = Atomics.load(word, 0);
    if (w >> BigInt(32) !== tag) return -1;
    const front = Number((w >> BigInt(16)) & BigInt(0xffff));
    const back = Number(w & BigInt(0xffff));
    if (front >= back) return -1;
    const next = fromBack ? w - BigInt(1) : w + BigInt(0x10000);
    if (Atomics.compareExchange(word, 0, w, next) === w) return fromBack ? back - 1 : front;
  }
}

const workerSource = (kernelSources: string[]): string => `
"use strict";
const { parentPort } = require("node:worker_threads");
// Transpilers may wrap functions with a name-keeping helper; make it a no-op here.
var __name = function (f) { return f; };
const kernels = [${kernelSources.map((s) => `(${s})`).join(",\n")}];
const claim = (${claim.toString()});
parentPort.on("message", (msg) => {
  const ctrl = msg.ctrl, job = msg.job, word = msg.word, args = msg.args, bounds = msg.bounds, arrays = msg.arrays;
  if (Atomics.compareExchange(ctrl, ${STATE}, 0, 1) !== 0) return; // cancelled before we got here
  Atomics.notify(ctrl, ${STATE});
  let seen = 0;
  for (;;) {
    let s = Atomics.load(ctrl, ${SEQ});
    for (const t0 = performance.now(); s === seen && performance.now() - t0 < ${SPIN_MS}; ) s = Atomics.load(ctrl, ${SEQ});
    while (s === seen) { Atomics.wait(ctrl, ${SEQ}, seen); s = Atomics.load(ctrl, ${SEQ}); }
    seen = s;
    const cmd = ctrl[${CMD}];
    if (cmd < 0) break;
    const kernel = kernels[cmd];
    const list = [];
    for (let a = 0; a < ctrl[${NARGS}]; a++) list.push(args[2 * a] === 1 ? arrays[args[2 * a + 1]] : args[2 * a + 1]);
    const na = list.length;
    list.push(0, 0, 1);
    for (;;) {
      const c = claim(word, s, 1);
      if (c < 0) break;
      if (list[na + 2] === 1) Atomics.store(ctrl, ${PART}, s);
      list[na] = bounds[c];
      list[na + 1] = bounds[c + 1];
      try {
        kernel.apply(null, list);
      } catch (e) {
        Atomics.store(ctrl, ${FAILED}, 1); // the caller throws; never leave it waiting
      }
      list[na + 2] = 0;
      Atomics.add(job, ${COMPLETED}, 1);
      Atomics.notify(job, ${COMPLETED});
    }
  }
});
`;

interface Team {
  readonly workers: Worker[];
  broken: boolean;
}

const teams = new Map<string, Team>();

function nodeModule<T>(id: string): T | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    return proc?.getBuiltinModule?.(id) as T | undefined;
  } catch {
    return undefined;
  }
}

/** Number of hardware threads, or 1 where that cannot be known. */
export function hardwareThreads(): number {
  const os = nodeModule<typeof import("node:os")>("node:os");
  return os ? Math.max(1, os.availableParallelism?.() ?? os.cpus().length) : 1;
}

/** True where SharedArrayBuffers and worker threads exist. */
export function teamsAvailable(): boolean {
  return typeof SharedArrayBuffer === "function" && nodeModule("node:worker_threads") !== undefined;
}

/** A Float64Array on a SharedArrayBuffer. */
export function sharedFloat64(length: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(length * 8));
}

function getTeam(key: string, kernels: readonly TeamKernel[], helpers: number): Team | null {
  let t = teams.get(key);
  if (t && (t.broken || t.workers.length < helpers)) {
    for (const w of t.workers) void w.terminate();
    teams.delete(key);
    t = undefined;
  }
  if (!t) {
    const wt = nodeModule<typeof import("node:worker_threads")>("node:worker_threads");
    if (!wt) return null;
    const src = workerSource(kernels.map((k) => k.toString()));
    const workers: Worker[] = [];
    try {
      for (let h = 0; h < helpers; h++) {
        const w = new wt.Worker(src, { eval: true });
        w.unref();
        workers.push(w);
      }
    } catch {
      for (const w of workers) void w.terminate();
      return null;
    }
    const team: Team = { workers, broken: false };
    for (const w of workers) w.on("error", () => (team.broken = true));
    teams.set(key, team);
    t = team;
  }
  return t;
}

/** An open session: the caller plus `helpers` threads, each with its fixed list of arrays. */
export interface Session {
  /** Number of helper threads (the caller is not counted). */
  readonly helpers: number;
  /**
   * Runs kernel number `kernel` over the chunks [bounds[c], bounds[c+1]), c < chunks: helper h
   * calls it with (...args[h], r0, r1, first), the caller calls own(r0, r1). Returns when every
   * chunk is done, with the helpers that took part (their per-helper results are fresh).
   */
  run(kernel: number, args: readonly (readonly TeamArg[])[], bounds: ArrayLike<number>, chunks: number, own: (r0: number, r1: number) => void): boolean[];
  /** Releases the helpers (always call it, e.g. in a finally block). */
  close(): void;
}

/**
 * Opens a session on the team `key`, whose kernels are fixed when it is first created (use one
 * key per kernel list). `arrays[h]` are the shared values (see SessionValue) that helper h
 * receives, once per session. Returns null where helpers cannot be used; the caller then runs
 * serially.
 */
export function openSession(key: string, kernels: readonly TeamKernel[], arrays: readonly (readonly SessionValue[])[]): Session | null {
  const helpers = arrays.length;
  if (helpers === 0 || !teamsAvailable()) return null;
  for (const list of arrays) for (const a of list) if (!sharable(a)) return null;
  const team = getTeam(key, kernels, helpers);
  if (!team) return null;
  const job = new Int32Array(new SharedArrayBuffer(JOB_WORDS * 4));
  const word = new BigInt64Array(new SharedArrayBuffer(8));
  const bounds = sharedFloat64(MAX_CHUNKS + 1);
  const ctrls: Int32Array[] = [];
  const argv: Float64Array[] = [];
  for (let h = 0; h < helpers; h++) {
    const ctrl = new Int32Array(new SharedArrayBuffer(CTRL_WORDS * 4));
    ctrl[PART] = -1;
    const args = sharedFloat64(2 * MAX_ARGS);
    ctrls.push(ctrl);
    argv.push(args);
    team.workers[h].postMessage({ ctrl, job, word, args, bounds, arrays: arrays[h] });
  }
  // Handshake: each helper flips STATE 0 -> 1 when it enters the session; on a timeout we flip it
  // 0 -> 2 so that a late helper leaves the data alone.
  const deadline = Date.now() + HANDSHAKE_MS;
  for (const ctrl of ctrls) {
    while (Atomics.load(ctrl, STATE) === 0 && Date.now() < deadline) Atomics.wait(ctrl, STATE, 0, 20);
    Atomics.compareExchange(ctrl, STATE, 0, 2);
  }
  let seq = 0;
  // A new command first re-tags the claim word, so that a helper still holding the previous
  // command's number can no longer claim anything; then it writes the chunks and arguments and
  // only then the helpers' SEQ, which they read before claiming.
  const retag = (chunks: number) => {
    seq++;
    Atomics.store(word, 0, (BigInt(seq) << BigInt(32)) | BigInt(chunks));
    Atomics.store(job, COMPLETED, 0);
  };
  const publish = (cmd: number, args: readonly (readonly TeamArg[])[]) => {
    for (let h = 0; h < helpers; h++) {
      const ctrl = ctrls[h];
      if (Atomics.load(ctrl, STATE) !== 1) continue;
      const a = args[h] ?? [];
      const v = argv[h];
      for (let i = 0; i < a.length; i++) {
        const x = a[i];
        v[2 * i] = typeof x === "number" ? 0 : 1;
        v[2 * i + 1] = typeof x === "number" ? x : x.array;
      }
      ctrl[CMD] = cmd;
      ctrl[NARGS] = a.length;
      Atomics.store(ctrl, SEQ, seq);
      Atomics.notify(ctrl, SEQ);
    }
  };
  const close = () => {
    if (seq < 0) return;
    retag(0);
    publish(-1, []);
    seq = -1;
  };
  if (ctrls.some((c) => Atomics.load(c, STATE) !== 1)) {
    close();
    team.broken = true;
    return null;
  }
  return {
    helpers,
    run(kernel, args, b, chunks, own) {
      if (seq < 0) throw new Error("row-team: session is closed");
      if (chunks < 1 || chunks > MAX_CHUNKS) throw new Error(`row-team: 1 to ${MAX_CHUNKS} chunks`);
      if (args.some((a) => a.length > MAX_ARGS)) throw new Error(`row-team: at most ${MAX_ARGS} kernel arguments`);
      retag(chunks);
      for (let c = 0; c <= chunks; c++) bounds[c] = b[c];
      publish(kernel, args);
      let mine = 0;
      try {
        for (let c = claim(word, seq, 0); c >= 0; c = claim(word, seq, 0)) {
          mine++;
          own(bounds[c], bounds[c + 1]);
        }
      } finally {
        // If `own` threw, take the chunks left so that nobody waits for them.
        for (let c = claim(word, seq, 0); c >= 0; c = claim(word, seq, 0)) mine++;
        // Chunks that a helper holds must finish before anyone touches the data again.
        Atomics.add(job, COMPLETED, mine);
        for (const t0 = performance.now(); ; ) {
          const done = Atomics.load(job, COMPLETED);
          if (done >= chunks) break;
          if (performance.now() - t0 > SPIN_MS) Atomics.wait(job, COMPLETED, done, 50);
        }
      }
      if (ctrls.some((c) => Atomics.load(c, FAILED) !== 0)) {
        team.broken = true;
        close();
        throw new Error("row-team: a helper's kernel failed");
      }
      return ctrls.map((c) => Atomics.load(c, PART) === seq);
    },
    close,
  };
}

/**
 * Chooses, pass after pass, between running on the team and running on the calling thread
 * alone, by measured speed: on a machine whose cores are busy with other work (or are two
 * hyper-threads of one core), a team can be slower than one thread. It tracks the time per unit
 * of work of each mode (exponential average) and re-measures the mode not in use every
 * `probeEvery` passes, so a wrong choice costs a few percent at most.
 */
export class ModeChooser {
  private rate: [number, number] = [NaN, NaN]; // seconds per unit of work: [alone, team]
  private count = 0;
  constructor(private readonly probeEvery = 32) {}

  /** True to run the next pass on the team. */
  useTeam(): boolean {
    this.count++;
    const [alone, team] = this.rate;
    if (Number.isNaN(team)) return true;
    if (Number.isNaN(alone)) return this.count < 4; // a few team passes, then one measured alone
    const best = team <= alone;
    return this.count % this.probeEvery === 0 ? !best : best;
  }

  /** Records a pass: mode, elapsed milliseconds, work units. */
  record(team: boolean, ms: number, work: number): void {
    if (!(work > 0)) return;
    const i = team ? 1 : 0;
    const r = ms / work;
    this.rate[i] = Number.isNaN(this.rate[i]) ? r : 0.7 * this.rate[i] + 0.3 * r;
  }
}

