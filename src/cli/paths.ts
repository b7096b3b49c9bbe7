/**
 * Paths a user names, checked before anything is read or written: an input must be a regular
 * file (or a folder where a folder is expected) — devices, FIFOs and sockets are refused by name,
 * since reading /dev/zero never ends; an output folder must be a folder or creatable (its nearest
 * existing ancestor a writable folder). Filesystem errors while writing outputs become InputErrors
 * naming the path (EEXIST, ENOTDIR, EACCES, ENOSPC, EROFS, ...).
 */
import { accessSync, constants, statfsSync, statSync, type Stats } from "node:fs";
import { dirname, resolve } from "node:path";
import { InputError } from "../errors.ts";

const FS_REASONS: Record<string, string> = {
  ENOENT: "no such file or folder",
  EEXIST: "exists and is not a folder",
  ENOTDIR: "a part of the path is a file, not a folder",
  EISDIR: "is a folder, not a file",
  EACCES: "permission denied",
  EPERM: "permission denied",
  ENOSPC: "no space left on the device",
  EROFS: "read-only file system",
  EDQUOT: "disk quota exceeded",
  ENAMETOOLONG: "name too long",
  ELOOP: "too many symbolic links",
  EMFILE: "too many open files",
};

/** The errno code of a Node filesystem error, or undefined. */
export function fsErrorCode(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return typeof code === "string" && code in FS_REASONS ? code : undefined;
}

/** A filesystem error as an InputError naming `path` (the error's own path when it has one). */
export function fsInputError(e: unknown, path: string, doing: string): InputError {
  const err = e as NodeJS.ErrnoException;
  const code = fsErrorCode(e);
  return new InputError(err.path ?? path, `cannot ${doing}: ${code ? FS_REASONS[code] : err.message}`);
}

function kindOf(st: Stats): string {
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isSocket()) return "a socket";
  return "not a regular file";
}

/** `path` must exist and be a regular file, or a folder when `folder` is true. */
export function checkInputPath(input: string, path: string, opts: { folder?: boolean; what?: string } = {}): void {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new InputError(path, `${opts.what ?? "file"} not found (${input})`);
    throw fsInputError(e, path, `read ${opts.what ?? "file"}`);
  }
  if (st.isFile()) return;
  if (st.isDirectory()) {
    if (opts.folder) return;
    throw new InputError(path, `is a folder; ${input} expects a regular file`);
  }
  throw new InputError(path, `is ${kindOf(st)}; ${input} expects a regular file${opts.folder ? " or a folder" : ""}`);
}

/** `path` must be a regular file to read (data and weight readers call this before reading). */
export function checkRegularFile(path: string, what = "file"): void {
  let st: Stats;
  try {
    st = statSync(path);
  } catch {
    return; // the reader reports a missing or unreadable file itself
  }
  if (!st.isFile() && !st.isDirectory()) throw new InputError(path, `cannot read ${what}: is ${kindOf(st)}, not a regular file`);
}

/** Kernel file systems (statfs f_type) that hold no user files: writing there fails or does harm. */
const VIRTUAL_FS: Record<number, string> = {
  0x9fa0: "procfs",
  0x62656572: "sysfs",
  0x1cd1: "devpts",
  0x27e0eb: "cgroupfs",
  0x63677270: "cgroup2fs",
  0x64626720: "debugfs",
  0x74726163: "tracefs",
  0x73636673: "securityfs",
  0xcafe4a11: "bpffs",
};

/** The name of the virtual file system `path` is on, or null (also where statfs is unavailable). */
function virtualFileSystem(path: string): string | null {
  try {
    return VIRTUAL_FS[Number(statfsSync(path).type)] ?? null;
  } catch {
    return null;
  }
}

/**
 * `dir` must be a folder, or creatable: its nearest existing ancestor a folder we may write in.
 * Creates nothing.
 */
export function checkOutputDir(input: string, dir: string): void {
  const abs = resolve(dir);
  let st: Stats | null = null;
  try {
    st = statSync(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOTDIR") throw new InputError(dir, `cannot create folder (${input}): a part of the path is a file, not a folder`);
    if (code !== "ENOENT") throw fsInputError(e, dir, `use folder (${input})`);
  }
  if (st) {
    if (!st.isDirectory()) throw new InputError(dir, `exists and is not a folder (${input} expects a folder)`);
    const vfs = virtualFileSystem(abs);
    if (vfs) throw new InputError(dir, `cannot write in folder (${input}): it is on ${vfs}, a kernel file system, not storage`);
    try {
      accessSync(abs, constants.W_OK | constants.X_OK);
    } catch {
      throw new InputError(dir, `cannot write in folder (${input}): permission denied`);
    }
    return;
  }
  let parent = dirname(abs);
  for (;;) {
    let pst: Stats | null = null;
    try {
      pst = statSync(parent);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOTDIR") throw new InputError(dir, `cannot create folder (${input}): a part of the path is a file, not a folder`);
      if (code !== "ENOENT") throw fsInputError(e, dir, `create folder (${input})`);
    }
    if (pst) {
      if (!pst.isDirectory()) throw new InputError(dir, `cannot create folder (${input}): ${parent} is a file, not a folder`);
      const vfs = virtualFileSystem(parent);
      if (vfs) throw new InputError(dir, `cannot create folder (${input}): ${parent} is on ${vfs}, a kernel file system, not storage`);
      try {
        accessSync(parent, constants.W_OK | constants.X_OK);
      } catch {
        throw new InputError(dir, `cannot create folder (${input}): permission denied in ${parent}`);
      }
      return;
    }
    const up = dirname(parent);
    if (up === parent) return;
    parent = up;
  }
}
