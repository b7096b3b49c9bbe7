/**
 * A journal lets a long computation be stopped and resumed: algorithms save each finished unit
 * of work (a probe's quadrature rule in SLQ, a probe's sample in Hutchinson's trace, a product in
 * Hutchinson's diagonal, Hutch++, XTrace and XDiag: estimator.ts) under a key, and on a re-run
 * take it back instead of recomputing it. Lanczos eigenpairs and power iteration journal nothing
 * inside a run (their state is the whole basis); the CLI journals their finished result. Algorithms see only this interface; where it is kept
 * (a run directory on disk, memory in tests) is the caller's business. A resumed run gives the
 * same numbers as an uninterrupted one: every unit is a deterministic function of its seed.
 */
export interface Journal {
  /** A JSON value saved under `key`, or undefined. */
  get(key: string): Promise<unknown>;
  /** Saves a JSON value under `key` (atomically: a unit is either whole or absent). */
  put(key: string, value: unknown): Promise<void>;
  /** A numeric array saved under `key`, or undefined. */
  getArray(key: string): Promise<Float64Array | undefined>;
  putArray(key: string, value: Float64Array | Float32Array): Promise<void>;
}

/** A journal in memory (tests; runs that need no resuming). */
export function memoryJournal(): Journal & { readonly keys: () => string[] } {
  const values = new Map<string, string>();
  const arrays = new Map<string, Float64Array>();
  return {
    async get(key) {
      const v = values.get(key);
      return v === undefined ? undefined : JSON.parse(v);
    },
    async put(key, value) {
      values.set(key, JSON.stringify(value));
    },
    async getArray(key) {
      const a = arrays.get(key);
      return a ? Float64Array.from(a) : undefined;
    },
    async putArray(key, value) {
      arrays.set(key, Float64Array.from(value));
    },
    keys: () => [...values.keys(), ...arrays.keys()],
  };
}

/** The same journal with every key under `prefix` (units of one part of a run, e.g. one mini-batch). */
export function prefixedJournal(journal: Journal, prefix: string): Journal {
  return {
    get: (key) => journal.get(prefix + key),
    put: (key, value) => journal.put(prefix + key, value),
    getArray: (key) => journal.getArray(prefix + key),
    putArray: (key, value) => journal.putArray(prefix + key, value),
  };
}

/** Runs `unit` unless the journal has its result; saves it when computed. */
export async function journaled<T>(journal: Journal | undefined, key: string, unit: () => Promise<T>): Promise<T> {
  if (journal) {
    const saved = await journal.get(key);
    if (saved !== undefined) return saved as T;
  }
  const value = await unit();
  if (journal) await journal.put(key, value);
  return value;
}
