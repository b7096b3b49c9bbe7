/**
 * A run directory on disk: the journal of a resumable command (`--resume DIR`). DIR/run.json
 * holds the command's settings; a re-run with other settings is refused (it would mix results).
 * Units go to DIR/journal/<key>.json or .npy, each written to a temporary name and renamed, so
 * an interrupted write leaves the unit absent, never half-written. Each unit carries the SHA-256
 * of its content (inside the JSON unit; beside an array, in <key>.npy.sha256, written after it):
 * a unit that does not read back whole and equal to its digest (truncated by a full disk, edited,
 * damaged on disk, its digest missing) is never trusted: it counts as absent, is recomputed, and
 * a warning names it. DIR/lock holds
 * the pid of the run using the folder: a second run on the same folder at once is refused, a lock
 * left by a dead process is taken over. Filesystem errors are InputErrors naming the path. The
 * shapes of run.json are in run-file.ts.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../errors.ts";
import type { Journal } from "../linalg/journal.ts";
import { encodeNpy, parseNpy } from "../data/npy.ts";
import { fsErrorCode, fsInputError } from "./paths.ts";
import { makeFolders } from "../data/files.ts";

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

function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let at = 0;
  for (const c of chunks) out.set(c, at), (at += c.length);
  return out;
}

function safeKey(key: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(key)) throw new Error(`journal key "${key}" has characters unsafe in file names`);
  return key;
}

function writeAtomic(path: string, content: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}

const sha256 = (content: string | Uint8Array) => createHash("sha256").update(content).digest("hex");

/** A journal unit that failed its check: recomputed, with a warning naming it. */
function damaged(path: string, why: string): undefined {
  process.stderr.write(`curvlab: warning: journal unit ${path} is damaged (${why}); recomputing it\n`);
  return undefined;
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
    makeFolders(dir);
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
    makeFolders(join(dir, "journal"));
    writeAtomic(runFile, wanted + "\n");
  }
  makeFolders(join(dir, "journal"));
  const path = (key: string, ext: string) => join(dir, "journal", `${safeKey(key)}.${ext}`);
  const journal: Journal = {
    async get(key) {
      const p = path(key, "json");
      if (!existsSync(p)) return undefined;
      let unit: unknown;
      try {
        unit = JSON.parse(readFileSync(p, "utf8"));
      } catch {
        return damaged(p, "not readable JSON");
      }
      const u = unit as { sha256?: unknown; value?: unknown };
      if (typeof unit !== "object" || unit === null || typeof u.sha256 !== "string" || !("value" in u)) return damaged(p, "no digest");
      if (sha256(JSON.stringify(u.value)) !== u.sha256) return damaged(p, "content differs from its SHA-256");
      return u.value;
    },
    async put(key, value) {
      const text = JSON.stringify(value);
      writeAtomic(path(key, "json"), `{"sha256":"${sha256(text)}","value":${text}}`);
    },
    async getArray(key) {
      const p = path(key, "npy");
      if (!existsSync(p)) return undefined;
      try {
        const bytes = readFileSync(p);
        const digest = existsSync(`${p}.sha256`) ? readFileSync(`${p}.sha256`, "utf8").trim() : null;
        if (digest === null) return damaged(p, "its digest is missing");
        if (sha256(bytes) !== digest) return damaged(p, "content differs from its SHA-256");
        return Float64Array.from(parseNpy(bytes, p).data as ArrayLike<number>);
      } catch (e) {
        return damaged(p, e instanceof Error ? e.message : String(e));
      }
    },
    async putArray(key, value) {
      const p = path(key, "npy");
      const bytes = concatBytes(encodeNpy({ shape: [value.length], data: value }, p));
      writeAtomic(p, bytes);
      writeAtomic(`${p}.sha256`, sha256(bytes) + "\n");
    },
  };
  return { journal, resumed };
}
