/**
 * A small team of helper threads for synchronous, step-by-step kernels on shared memory.
 *
 * Why: the dense eigensolver is a sequence of ~n passes over a matrix, each splittable by rows,
 * with a cheap serial step between passes. A helper thread that stays inside a "session" and is
 * woken through Atomics for every pass costs tens of microseconds per step, which is small next
 * to a pass over a matrix of a few hundred rows or more.
 *
 * How: helpers are Node `worker_threads` compiled from the source text of self-contained kernel
 * functions (no imports, no references outside their body). A session shares the arrays (which
 * must live on SharedArrayBuffers) with each helper once; each command then writes a few numbers
 * into a shared Int32Array, wakes the helpers, runs the caller's own share and waits for them.
 * The caller blocks with Atomics.wait, which Node allows on its main thread.
 *
 * Where helpers are not available (browsers, runtimes without `process.getBuiltinModule`, a
 * helper that does not answer the start-up handshake), `openSession` returns null and callers run
 * serially. Helpers are unref'd: they never keep a process alive.
 */
import type { Worker } from "node:worker_threads";

/** Signature shared by team kernels: arrays first, then numbers. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TeamKernel = (...args: any[]) => void;

// Control words (Int32Array on a SharedArrayBuffer, one block per helper).
const SEQ = 0; // command counter, written by the caller
const DONE = 1; // last command finished, written by the helper
const STATE = 2; // session handshake: 0 pending, 1 helper ready, 2 cancelled by the caller
const CMD = 3; // kernel index, or -1 to end the session
const NARGS = 4; // number of numeric arguments
const ARGS = 8; // numeric arguments (as int32 here; kernels take integers only)
const CTRL_WORDS = 16;

const HANDSHAKE_MS = 10_000;
const SPIN = 2000;

const workerSource = (kernelSources: string[]): string => `
"use strict";
const { parentPort } = require("node:worker_threads");
// Transpilers may wrap functions with a name-keeping helper; make it a no-op here.
var __name = function (f) { return f; };
const kernels = [${kernelSources.map((s) => `(${s})`).join(",\n")}];
parentPort.on("message", (msg) => {
  const ctrl = msg.ctrl;
  if (Atomics.compareExchange(ctrl, ${STATE}, 0, 1) !== 0) return; // cancelled before we got here
  Atomics.notify(ctrl, ${STATE});
  const arrays = msg.arrays;
  let seen = 0;
  for (;;) {
    let s = Atomics.load(ctrl, ${SEQ});
    for (let spin = 0; s === seen && spin < ${SPIN}; spin++) s = Atomics.load(ctrl, ${SEQ});
    while (s === seen) { Atomics.wait(ctrl, ${SEQ}, seen); s = Atomics.load(ctrl, ${SEQ}); }
    seen = s;
    const cmd = ctrl[${CMD}];
    if (cmd < 0) break;
    const args = arrays.slice();
    for (let a = 0; a < ctrl[${NARGS}]; a++) args.push(ctrl[${ARGS} + a]);
    kernels[cmd].apply(null, args);
    Atomics.store(ctrl, ${DONE}, s);
    Atomics.notify(ctrl, ${DONE});
  }
  Atomics.store(ctrl, ${DONE}, seen);
});
`;

interface Team {
  readonly workers: Worker[];
  readonly kernels: TeamKernel[];
  broken: boolean;
}

const teams = new Map<string, Team>();

/** Number of hardware threads, or 1 where that cannot be known. */
export function hardwareThreads(): number {
  const os = nodeModule<typeof import("node:os")>("node:os");
  return os ? Math.max(1, os.availableParallelism?.() ?? os.cpus().length) : 1;
}

/** True where a SharedArrayBuffer can be created and helpers could run. */
export function teamsAvailable(): boolean {
  return typeof SharedArrayBuffer === "function" && nodeModule("node:worker_threads") !== undefined;
}

function nodeModule<T>(id: string): T | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    return proc?.getBuiltinModule?.(id) as T | undefined;
  } catch {
    return undefined;
  }
}

/** A Float64Array on a SharedArrayBuffer. */
export function sharedFloat64(length: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(length * 8));
}

function team(key: string, kernels: TeamKernel[], helpers: number): Team | null {
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
    t = { workers, kernels, broken: false };
    const tt = t;
    for (const w of workers) w.on("error", () => { tt.broken = true; });
    teams.set(key, t);
  }
  return t;
}

/** An open session: the caller plus `helpers` threads sharing a fixed list of arrays each. */
export interface Session {
  /** Number of helper threads (the caller is not counted). */
  readonly helpers: number;
  /**
   * Runs kernel number `kernel` on helper h with (arrays of helper h..., ...args[h]), runs `own`
   * on the calling thread meanwhile, and returns when every helper has finished.
   */
  run(kernel: number, args: readonly (readonly number[])[], own: () => void): void;
  /** Releases the helpers (always call it, e.g. in a finally block). */
  close(): void;
}

/**
 * Opens a session on the team identified by `key` (its kernels are fixed when it is first
 * created). `arrays[h]` are the shared arrays that helper h receives. Returns null where helpers
 * cannot be used; the caller then runs serially.
 */
export function openSession(key: string, kernels: TeamKernel[], arrays: readonly (readonly Float64Array[])[]): Session | null {
  const helpers = arrays.length;
  if (helpers === 0 || !teamsAvailable()) return null;
  for (const list of arrays) for (const a of list) if (!(a.buffer instanceof SharedArrayBuffer)) return null;
  const t = team(key, kernels, helpers);
  if (!t) return null;
  const ctrls: Int32Array[] = [];
  for (let h = 0; h < helpers; h++) {
    const ctrl = new Int32Array(new SharedArrayBuffer(CTRL_WORDS * 4));
    ctrls.push(ctrl);
    t.workers[h].postMessage({ ctrl, arrays: arrays[h] });
  }
  // Handshake: each helper flips STATE 0 -> 1 when it enters the session; on a timeout we flip it
  // 0 -> 2 so that a late helper leaves the data alone.
  let ok = true;
  const deadline = Date.now() + HANDSHAKE_MS;
  for (const ctrl of ctrls) {
    while (Atomics.load(ctrl, STATE) === 0 && Date.now() < deadline) Atomics.wait(ctrl, STATE, 0, 20);
    if (Atomics.compareExchange(ctrl, STATE, 0, 2) !== 1 && Atomics.load(ctrl, STATE) !== 1) ok = false;
  }
  let seq = 0;
  let live = ctrls.filter((c) => Atomics.load(c, STATE) === 1);
  const command = (cmd: number, args: readonly (readonly number[])[]) => {
    seq++;
    for (let h = 0; h < helpers; h++) {
      const ctrl = ctrls[h];
      if (Atomics.load(ctrl, STATE) !== 1) continue;
      const a = args[h] ?? [];
      ctrl[CMD] = cmd;
      ctrl[NARGS] = a.length;
      for (let i = 0; i < a.length; i++) ctrl[ARGS + i] = a[i];
      Atomics.store(ctrl, SEQ, seq);
      Atomics.notify(ctrl, SEQ);
    }
  };
  const wait = () => {
    for (const ctrl of live) {
      let spin = 0;
      while (Atomics.load(ctrl, DONE) !== seq) {
        if (spin++ < SPIN) continue;
        Atomics.wait(ctrl, DONE, Atomics.load(ctrl, DONE), 50);
      }
    }
  };
  const close = () => {
    if (seq < 0) return;
    if (live.length > 0) {
      command(-1, []);
      wait();
    }
    live = [];
    seq = -1;
  };
  if (!ok) {
    close();
    t.broken = true;
    return null;
  }
  return {
    helpers,
    run(kernel, args, own) {
      if (seq < 0) throw new Error("row-team: session is closed");
      if (args.some((a) => a.length > CTRL_WORDS - ARGS)) throw new Error("row-team: too many arguments");
      command(kernel, args);
      try {
        own();
      } finally {
        wait();
      }
    },
    close,
  };
}
