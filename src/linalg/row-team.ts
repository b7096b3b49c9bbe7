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
 * arrays (on SharedArrayBuffers) with each helper once. Each command then publishes a kernel
 * number, its arguments (numbers, or references to the session's arrays) and the boundaries of a
 * few chunks of rows; the caller and the helpers claim chunks one at a time from a shared
 * counter until none is left (dynamic scheduling: a helper that the OS does not run, on a busy
 * machine, costs at most the chunk it holds, never a fixed half of the work). The caller blocks
 * with Atomics.wait, which Node allows on its main thread.
 *
 * Kernel convention: kernel(...args, r0, r1, first), where [r0, r1) is the chunk and `first` is
 * 1 on the first chunk a helper takes in a command (for per-helper set-up such as zeroing its own
 * accumulator); the caller's share runs through a callback instead and never gets `first`.
 *
 * Where helpers are not available (browsers, runtimes without `process.getBuiltinModule`, a
 * helper that does not answer the start-up handshake), `openSession` returns null and callers run
 * serially. Helpers are unref'd: they never keep a process alive.
 */
import type { Worker } from "node:worker_threads";

/** Signature shared by team kernels: positional typed arrays and numbers. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TeamKernel = (...args: any[]) => void;

/** A kernel argument: a number, or `{ array: i }` for the i-th array of the helper's session. */
export type TeamArg = number | { readonly array: number };

// Per-helper control words (Int32Array on a SharedArrayBuffer).
const SEQ = 0; // command counter, written by the caller
const STATE = 1; // session handshake: 0 pending, 1 helper ready, 2 cancelled by the caller
const CMD = 2; // kernel index, or -1 to end the session
const NARGS = 3; // number of arguments
const PART = 4; // last command in which this helper took a chunk
const CTRL_WORDS = 8;
// Job words shared by all threads of a session.
const CLAIM = 0; // (command seq mod 2^15) << 16 | next chunk
const COMPLETED = 1; // chunks finished
const NCHUNKS = 2;
const JOB_WORDS = 4;

const MAX_ARGS = 16; // each argument: (kind, value) in a Float64Array; kind 0 number, 1 array
/** Most chunks per command. */
export const MAX_CHUNKS = 256;
const HANDSHAKE_MS = 10_000;
/** Polls of a shared word before sleeping in Atomics.wait (a few microseconds). */
const SPIN = 4000;

// Shared by the helper source and the caller: claim the next chunk of command `seq`, or -1.
function claim(job: Int32Array, seq: number): number {
  const tag = (seq & 0x7fff) << 16;
  for (;;) {
    const w = Atomics.load(job, 0);
    if ((w & 0x7fff0000) !== tag) return -1;
    const c = w & 0xffff;
    if (c >= Atomics.load(job, 2)) return -1;
    if (Atomics.compareExchange(job, 0, w, w + 1) === w) return c;
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
  const ctrl = msg.ctrl, job = msg.job, args = msg.args, bounds = msg.bounds, arrays = msg.arrays;
  if (Atomics.compareExchange(ctrl, ${STATE}, 0, 1) !== 0) return; // cancelled before we got here
  Atomics.notify(ctrl, ${STATE});
  let seen = 0;
  for (;;) {
    let s = Atomics.load(ctrl, ${SEQ});
    for (let spin = 0; s === seen && spin < ${SPIN}; spin++) s = Atomics.load(ctrl, ${SEQ});
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
      const c = claim(job, s);
      if (c < 0) break;
      if (list[na + 2] === 1) Atomics.store(ctrl, ${PART}, s);
      list[na] = bounds[c];
      list[na + 1] = bounds[c + 1];
      kernel.apply(null, list);
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
 * key per kernel list). `arrays[h]` are the shared arrays that helper h receives. Returns null
 * where helpers cannot be used; the caller then runs serially.
 */
export function openSession(key: string, kernels: readonly TeamKernel[], arrays: readonly (readonly Float64Array[])[]): Session | null {
  const helpers = arrays.length;
  if (helpers === 0 || !teamsAvailable()) return null;
  for (const list of arrays) for (const a of list) if (!(a.buffer instanceof SharedArrayBuffer)) return null;
  const team = getTeam(key, kernels, helpers);
  if (!team) return null;
  const job = new Int32Array(new SharedArrayBuffer(JOB_WORDS * 4));
  const bounds = sharedFloat64(MAX_CHUNKS + 1);
  const ctrls: Int32Array[] = [];
  const argv: Float64Array[] = [];
  for (let h = 0; h < helpers; h++) {
    const ctrl = new Int32Array(new SharedArrayBuffer(CTRL_WORDS * 4));
    ctrl[PART] = -1;
    const args = sharedFloat64(2 * MAX_ARGS);
    ctrls.push(ctrl);
    argv.push(args);
    team.workers[h].postMessage({ ctrl, job, args, bounds, arrays: arrays[h] });
  }
  // Handshake: each helper flips STATE 0 -> 1 when it enters the session; on a timeout we flip it
  // 0 -> 2 so that a late helper leaves the data alone.
  const deadline = Date.now() + HANDSHAKE_MS;
  for (const ctrl of ctrls) {
    while (Atomics.load(ctrl, STATE) === 0 && Date.now() < deadline) Atomics.wait(ctrl, STATE, 0, 20);
    Atomics.compareExchange(ctrl, STATE, 0, 2);
  }
  let seq = 0;
  const publish = (cmd: number, args: readonly (readonly TeamArg[])[]) => {
    seq++;
    Atomics.store(job, CLAIM, (seq & 0x7fff) << 16);
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
    Atomics.store(job, NCHUNKS, 0);
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
      for (let c = 0; c <= chunks; c++) bounds[c] = b[c];
      Atomics.store(job, COMPLETED, 0);
      Atomics.store(job, NCHUNKS, chunks);
      publish(kernel, args);
      let mine = 0;
      try {
        for (let c = claim(job, seq); c >= 0; c = claim(job, seq)) {
          mine++;
          own(bounds[c], bounds[c + 1]);
        }
      } finally {
        // If `own` threw, take the chunks left so that nobody waits for them.
        for (let c = claim(job, seq); c >= 0; c = claim(job, seq)) mine++;
        // Chunks that a helper holds must finish before anyone touches the data again.
        Atomics.add(job, COMPLETED, mine);
        for (let spin = 0; ; spin++) {
          const done = Atomics.load(job, COMPLETED);
          if (done >= chunks) break;
          if (spin >= SPIN) Atomics.wait(job, COMPLETED, done, 50);
        }
      }
      return ctrls.map((c) => Atomics.load(c, PART) === seq);
    },
    close,
  };
}
