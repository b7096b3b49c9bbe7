/**
 * A reader of ZIP archives (PKWARE APPNOTE 6.3), enough for NumPy's .npz files: stored (0) and
 * deflated (8) entries, ZIP64 sizes and offsets (NumPy writes every member with ZIP64 extras).
 * The central directory is the source of truth for sizes; each local header is read only for
 * the length of its name and extra field. Checksums are verified (CRC-32), so a damaged archive
 * is an InputError naming the file and the member rather than silently wrong numbers.
 */
import { inflateRawSync } from "node:zlib";
import { InputError } from "../errors.ts";

const EOCD = 0x06054b50, EOCD64_LOCATOR = 0x07064b50, EOCD64 = 0x06064b50, CENTRAL = 0x02014b50, LOCAL = 0x04034b50;

let crcTable: Uint32Array | null = null;

export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The members of a ZIP archive, by name, uncompressed. `name` is used in error messages. */
export function readZip(bytes: Uint8Array, name: string): Map<string, Uint8Array> {
  const fail = (why: string): never => { throw new InputError(name, `not a readable .npz/.zip archive: ${why}`); };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (o: number) => (o + 2 <= bytes.length ? dv.getUint16(o, true) : fail(`truncated at byte ${o}`));
  const u32 = (o: number) => (o + 4 <= bytes.length ? dv.getUint32(o, true) : fail(`truncated at byte ${o}`));
  const u64 = (o: number) => {
    const v = Number(o + 8 <= bytes.length ? dv.getBigUint64(o, true) : fail(`truncated at byte ${o}`));
    return Number.isSafeInteger(v) ? v : fail("a ZIP64 size beyond 2^53");
  };
  // End of central directory: the last signature within the final 65,557 bytes (max comment).
  let eocd = -1;
  for (let o = bytes.length - 22; o >= Math.max(0, bytes.length - 22 - 0xffff); o--) {
    if (dv.getUint32(o, true) === EOCD) { eocd = o; break; }
  }
  if (eocd < 0) fail(`no end-of-central-directory record (${bytes.length} bytes; truncated, or not a ZIP file)`);
  let count = u16(eocd + 10), cdSize = u32(eocd + 12), cdOffset = u32(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || u32(loc) !== EOCD64_LOCATOR) fail("ZIP64 fields without a ZIP64 locator");
    const e64 = u64(loc + 8);
    if (u32(e64) !== EOCD64) fail("bad ZIP64 end-of-central-directory record");
    count = u64(e64 + 32), cdSize = u64(e64 + 40), cdOffset = u64(e64 + 48);
  }
  if (cdOffset + cdSize > bytes.length) fail(`central directory at ${cdOffset} (+${cdSize}) lies past the end (${bytes.length} bytes; truncated?)`);
  const out = new Map<string, Uint8Array>();
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (u32(p) !== CENTRAL) fail(`bad central directory entry ${i}`);
    const flags = u16(p + 8), method = u16(p + 10), crc = u32(p + 16);
    let csize = u32(p + 20), usize = u32(p + 24);
    const nameLen = u16(p + 28), extraLen = u16(p + 30), commentLen = u16(p + 32);
    let local = u32(p + 42);
    const member = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLen));
    // ZIP64 extra (id 1): the 0xffffffff fields, in the order usize, csize, offset.
    for (let e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen;) {
      const id = u16(e), len = u16(e + 2);
      if (id === 1) {
        let q = e + 4;
        if (usize === 0xffffffff) usize = u64(q), q += 8;
        if (csize === 0xffffffff) csize = u64(q), q += 8;
        if (local === 0xffffffff) local = u64(q), q += 8;
      }
      e += 4 + len;
    }
    if (flags & 1) fail(`member "${member}" is encrypted`);
    if (u32(local) !== LOCAL) fail(`member "${member}": bad local header at ${local}`);
    const start = local + 30 + u16(local + 26) + u16(local + 28);
    if (start + csize > bytes.length) fail(`member "${member}" is truncated (needs ${csize} bytes at ${start}, the file has ${bytes.length})`);
    const raw = bytes.subarray(start, start + csize);
    let data: Uint8Array;
    if (method === 0) data = raw;
    else if (method === 8) {
      try {
        const b = inflateRawSync(raw);
        data = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      } catch (e) {
        return fail(`member "${member}" does not inflate (${(e as Error).message})`);
      }
    } else return fail(`member "${member}" uses compression method ${method}; supported: stored (0), deflate (8)`);
    if (data.length !== usize) fail(`member "${member}" has ${data.length} bytes, the directory says ${usize}`);
    if (crc32(data) !== crc) fail(`member "${member}" fails its CRC-32 check (damaged file)`);
    out.set(member, data);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}
