/**
 * A small team of helper threads for synchronous, step-by-step kernels on shared memory.
 *
 * Why: the dense eigensolver is a sequence of ~n passes over a matrix, each splittable by rows,
 * with a cheap serial step between passes. A helper thread that stays inside a "session" and is
 * woken through Atomics for every pass costs some microseconds per step, which is small next to
 * a pass over a matrix of a few hundred rows or more.
 *
 * How: helpers are Node `worker_threads` compiled from the source text of self-contained kernel
 * functions (no imports, no references outside their own body). A session shares a list of
 * arrays (on SharedArrayBuffers) with each helper once; each command then writes the kernel
 * number and its arguments (numbers, or references to the session's arrays) into shared memory,
 * wakes the helpers, runs the caller's own share and waits for them. The caller blocks with
 * Atomics.wait, which Node allows on its main thread.
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

// Control words (Int32Array on a SharedArrayBuffer, one block per helper).
const SEQ = 0; // command counter, written by the caller
const DONE = 1; // last command finished, written by the helper
const STATE = 2; // session handshake: 0 pending, 1 helper ready, 2 cancelled by the caller
const CMD = 3; // kernel index, or -1 to end the session
const NARGS = 4; // number of arguments
const CTRL_WORDS = 8;
const MAX_ARGS = 16; // each argument: (kind, value) in a Float64Array; kind 0 number, 1 array

const HANDSHAKE_MS = 10_000;
/** Polls of a control word before sleeping in Atomics.wait (a few microseconds). */
const SPIN = 4000;

const workerSource = (kernelSources: string[]): string => `
"use strict";
const { parentPort } = require("node:worker_threads");
// Transpilers may wrap functions with a name-keeping helper; make it a no-op here.
var __name = function (f) { return f; };
const kernels = [${kernelSources.map((s) => `(${s})`).join(",\n")}];
parentPort.on("message", (msg) => {
  const ctrl = msg.ctrl, args = msg.args, arrays = msg.arrays;
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
    const list = [];
    for (let a = 0; a < ctrl[${NARGS}]; a++) list.push(args[2 * a] === 1 ? arrays[args[2 * a + 1]] : args[2 * a + 1]);
    kernels[cmd].apply(null, list);
    Atomics.store(ctrl, ${DONE}, s);
    Atomics.notify(ctrl, ${DONE});
  }
  Atomics.store(ctrl, ${DONE}, seen);
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
   * Runs kernel number `kernel` on helper h with arguments args[h], runs `own` on the calling
   * thread meanwhile, and returns when every helper has finished.
   */
  run(kernel: number, args: readonly (readonly TeamArg[])[], own: () => void): void;
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
  const ctrls: Int32Array[] = [];
  const argv: Float64Array[] = [];
  for (let h = 0; h < helpers; h++) {
    const ctrl = new Int32Array(new SharedArrayBuffer(CTRL_WORDS * 4));
    const args = sharedFloat64(2 * MAX_ARGS);
    ctrls.push(ctrl);
    argv.push(args);
    team.workers[h].postMessage({ ctrl, args, arrays: arrays[h] });
  }
  // Handshake: each helper flips STATE 0 -> 1 when it enters the session; on a timeout we flip it
  // 0 -> 2 so that a late helper leaves the data alone.
  const deadline = Date.now() + HANDSHAKE_MS;
  for (const ctrl of ctrls) {
    while (Atomics.load(ctrl, STATE) === 0 && Date.now() < deadline) Atomics.wait(ctrl, STATE, 0, 20);
    Atomics.compareExchange(ctrl, STATE, 0, 2);
  }
  let live = ctrls.filter((c) => Atomics.load(c, STATE) === 1);
  let seq = 0;
  const command = (cmd: number, args: readonly (readonly TeamArg[])[]) => {
    seq++;
    for (let h = 0; h < helpers; h++) {
      const ctrl = ctrls[h];
      if (Atomics.load(ctrl, STATE) !== 1) continue;
      const a = args[h] ?? [];
      const v = argv[h];
      for (let i = 0; i < a.length; i++) {
        const x = a[i];
        if (typeof x === "number") {
          v[2 * i] = 0;
          v[2 * i + 1] = x;
        } else {
          v[2 * i] = 1;
          v[2 * i + 1] = x.array;
        }
      }
      ctrl[CMD] = cmd;
      ctrl[NARGS] = a.length;
      Atomics.store(ctrl, SEQ, seq);
      Atomics.notify(ctrl, SEQ);
    }
  };
  const wait = () => {
    for (const ctrl of live) {
      for (let spin = 0; Atomics.load(ctrl, DONE) !== seq; spin++) {
        if (spin >= SPIN) Atomics.wait(ctrl, DONE, Atomics.load(ctrl, DONE), 50);
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
  if (live.length < helpers) {
    close();
    team.broken = true;
    return null;
  }
  return {
    helpers,
    run(kernel, args, own) {
      if (seq < 0) throw new Error("row-team: session is closed");
      if (args.some((a) => a.length > MAX_ARGS)) throw new Error(`row-team: at most ${MAX_ARGS} kernel arguments`);
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
