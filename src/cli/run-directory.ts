/**
 * A run directory on disk: the journal of a resumable command (`--resume DIR`). DIR/run.json
 * holds the command's settings; a re-run with other settings is refused (it would mix results).
 * Units go to DIR/journal/<key>.json or .npy, each written to a temporary name and renamed, so
 * an interrupted write leaves the unit absent, never half-written (a unit that cannot be read back
 * all the same, e.g. truncated by a full disk, counts as absent and is recomputed). DIR/lock holds
 * the pid of the run using the folder: a second run on the same folder at once is refused, a lock
 * left by a dead process is taken over. Filesystem errors are InputErrors naming the path. The
 * shapes of run.json are in run-file.ts.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../errors.ts";
import type { Journal } from "../linalg/journal.ts";
import { readNpy, writeNpy } from "../data/npy.ts";
import { fsErrorCode, fsInputError } from "./paths.ts";

/** Whether process `pid` is alive (signal 0 checks without sending anything). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

const held = new Set<string>();
process.on("exit", () => {
  for (const lock of held) rmSync(lock, { force: true });
});

/**
 * Takes DIR/lock for this process: refused (InputError naming `input`) while another live
 * process holds it; a lock of a dead process (or of this one) is taken over.
 */
export function lockRunDirectory(dir: string, input: string): () => void {
  const lock = join(dir, "lock");
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: "wx" });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw e;
      const pid = Number.parseInt(readFileSync(lock, "utf8"), 10);
      if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new InputError(input, `is in use by another curvlab run (pid ${pid}, ${lock}); wait for it to finish, or remove the lock if that process is not curvlab`);
      }
      rmSync(lock, { force: true });
    }
  }
  held.add(lock);
  return () => {
    held.delete(lock);
    rmSync(lock, { force: true });
  };
}

function safeKey(key: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(key)) throw new Error(`journal key "${key}" has characters unsafe in file names`);
  return key;
}

function writeAtomic(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}

/** The settings that differ, as "key: saved -> wanted" (whole objects when they are not records). */
function describeDifference(saved: unknown, wanted: unknown, prefix = ""): string {
  const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
  if (!isRecord(saved) || !isRecord(wanted)) return `${prefix || "settings"}: ${JSON.stringify(saved)} -> ${JSON.stringify(wanted)}`;
  const keys = [...new Set([...Object.keys(saved), ...Object.keys(wanted)])];
  return keys
    .filter((k) => JSON.stringify(saved[k]) !== JSON.stringify(wanted[k]))
    .map((k) => describeDifference(saved[k], wanted[k], prefix ? `${prefix}.${k}` : k))
    .join("; ");
}

/**
 * Opens DIR for `settings` (plain JSON): creates it, or checks that the settings it was started
 * with are the same. Returns the journal and whether earlier work was found.
 */
export function openRunDirectory(dir: string, settings: unknown, input = `--resume ${dir}`): { journal: Journal; resumed: boolean; release: () => void } {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw fsErrorCode(e) ? fsInputError(e, dir, "create the run folder") : e;
  }
  const release = lockRunDirectory(dir, input);
  try {
    return { ...openLocked(dir, settings, input), release };
  } catch (e) {
    release();
    throw fsErrorCode(e) ? fsInputError(e, dir, "use the run folder") : e;
  }
}

function openLocked(dir: string, settings: unknown, input: string): { journal: Journal; resumed: boolean } {
  const runFile = join(dir, "run.json");
  const wanted = JSON.stringify(settings);
  let resumed = false;
  if (existsSync(runFile)) {
    let saved: unknown;
    try {
      saved = JSON.parse(readFileSync(runFile, "utf8"));
    } catch {
      throw new InputError(input, "run.json is unreadable; remove the directory to start over");
    }
    if (JSON.stringify(saved) !== wanted) {
      throw new InputError(input, `was started with other settings (${describeDifference(saved, settings)}); use another directory or the same options`);
    }
    resumed = true;
  } else {
    mkdirSync(join(dir, "journal"), { recursive: true });
    writeAtomic(runFile, wanted + "\n");
  }
  mkdirSync(join(dir, "journal"), { recursive: true });
  const path = (key: string, ext: string) => join(dir, "journal", `${safeKey(key)}.${ext}`);
  const journal: Journal = {
    async get(key) {
      const p = path(key, "json");
      if (!existsSync(p)) return undefined;
      try {
        return JSON.parse(readFileSync(p, "utf8"));
      } catch {
        return undefined; // unreadable (truncated): recomputed
      }
    },
    async put(key, value) {
      writeAtomic(path(key, "json"), JSON.stringify(value));
    },
    async getArray(key) {
      const p = path(key, "npy");
      if (!existsSync(p)) return undefined;
      try {
        return Float64Array.from(readNpy(p).data as ArrayLike<number>);
      } catch {
        return undefined; // unreadable (truncated): recomputed
      }
    },
    async putArray(key, value) {
      writeNpy(path(key, "npy"), { shape: [value.length], data: value });
    },
  };
  return { journal, resumed };
}
