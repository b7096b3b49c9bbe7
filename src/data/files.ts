/**
 * File helpers shared by the data readers and writers: reading a user's file with one clear
 * InputError when it cannot be read (devices, FIFOs and sockets refused before reading, since
 * /dev/zero never ends), and writing atomically (a temporary file in the same folder,
 * then a rename) so that a crash or a bad input never leaves a half-written file behind.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { InputError } from "../errors.ts";

const reasons: Record<string, string> = {
  ENOENT: "no such file",
  EISDIR: "is a folder, not a file",
  EACCES: "permission denied",
  EPERM: "permission denied",
  ENOTDIR: "a part of the path is not a folder",
};

/** The bytes of `path`; an InputError naming `path` (and `what` it should be) if unreadable. */
export function readInputFile(path: string, what = "file"): Uint8Array {
  try {
    const st = statSync(path);
    if (!st.isFile() && !st.isDirectory()) {
      const kind = st.isCharacterDevice() ? "a character device" : st.isBlockDevice() ? "a block device" : st.isFIFO() ? "a FIFO (named pipe)" : st.isSocket() ? "a socket" : "not a regular file";
      throw new InputError(path, `cannot read ${what}: is ${kind}, not a regular file`);
    }
    const buf = readFileSync(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? "";
    const why = reasons[code] ?? (e as Error).message;
    throw new InputError(path, `cannot read ${what}: ${why}`);
  }
}

/**
 * `mkdir -p`: creates `path` and its missing parents, one level at a time. Not Node's
 * `mkdirSync(path, { recursive: true })`, which never returns where a parent exists but refuses
 * children with ENOENT (a folder under /proc, Node 20: it spins at 100% CPU). Filesystem errors
 * are thrown as they come (callers map them to InputErrors naming the path).
 */
export function makeFolders(path: string, opts: { readonly mode?: number } = {}): void {
  const missing: string[] = [];
  for (let p = resolve(path); !existsSync(p); ) {
    missing.push(p);
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d, opts.mode === undefined ? undefined : { mode: opts.mode });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  }
  // As mkdir -p: a file where the folder should be is EEXIST.
  const target = resolve(path);
  if (!statSync(target).isDirectory()) {
    throw Object.assign(new Error(`EEXIST: file already exists, mkdir '${target}'`), { code: "EEXIST", errno: -17, syscall: "mkdir", path: target });
  }
}

/**
 * Writes `chunks` to `path` atomically: into a temporary file next to it (same folder, hence
 * same file system, so the rename is atomic), flushed, then renamed over `path`. On any failure
 * the temporary file is removed and `path` is untouched.
 */
export function writeFileAtomic(path: string, chunks: readonly Uint8Array[]): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, "wx");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "";
    throw new InputError(path, `cannot write file: ${reasons[code] ?? (e as Error).message}`);
  }
  try {
    for (const c of chunks) {
      let off = 0;
      while (off < c.byteLength) off += writeSync(fd, c, off, c.byteLength - off);
    }
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    try { closeSync(fd); } catch { /* already closed */ }
    rmSync(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code ?? "";
    throw new InputError(path, `cannot write file: ${reasons[code] ?? (e as Error).message}`);
  }
}
