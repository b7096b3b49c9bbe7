/**
 * NumPy .npz archives (`np.savez`, `np.savez_compressed`): a ZIP of .npy members, each named
 * `<key>.npy`. Arrays come back by key, parsed by the .npy reader with the member named in errors.
 */
import { readInputFile } from "./files.ts";
import { parseNpy, type NpyArray } from "./npy.ts";
import { readZip } from "./zip.ts";

export function parseNpz(bytes: Uint8Array, name: string): Map<string, NpyArray> {
  const out = new Map<string, NpyArray>();
  for (const [member, data] of readZip(bytes, name)) {
    const key = member.endsWith(".npy") ? member.slice(0, -4) : member;
    out.set(key, parseNpy(data, `${name}:${member}`));
  }
  return out;
}

/** Reads a .npz file; every problem is an InputError naming the file (and the member). */
export function readNpz(path: string): Map<string, NpyArray> {
  return parseNpz(readInputFile(path, ".npz file"), path);
}
