/**
 * Parameters as one flat vector. Every model in curvlab keeps its parameters in a single flat
 * array (the order of its `ParamLayout`), so that curvature operators and algorithms see plain
 * vectors; names and shapes (PyTorch `state_dict` conventions) come back through the layout.
 */
import { InputError, optionError } from "../errors.ts";

export interface ParamSpec {
  /** PyTorch state_dict key, e.g. "0.weight". */
  readonly name: string;
  readonly shape: readonly number[];
  /** Offset of the block in the flat vector. */
  readonly offset: number;
  readonly size: number;
}

export type ParamLayout = readonly ParamSpec[];

/** Builds a layout from names and shapes, in order. */
export function makeLayout(entries: readonly { name: string; shape: readonly number[] }[]): ParamLayout {
  let offset = 0;
  return entries.map(({ name, shape }) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const spec = { name, shape: [...shape], offset, size };
    offset += size;
    return spec;
  });
}

export function layoutSize(layout: ParamLayout): number {
  const last = layout[layout.length - 1];
  return last ? last.offset + last.size : 0;
}

/**
 * The contiguous range of the flat vector that a block name covers: a parameter name
 * ("2.weight") or a layer prefix ("2" = "2.weight" and "2.bias").
 */
export function blockRange(layout: ParamLayout, block: string): { offset: number; size: number; names: string[] } {
  const exact = layout.filter((p) => p.name === block);
  const members = exact.length ? exact : layout.filter((p) => p.name.startsWith(`${block}.`));
  if (members.length === 0) {
    const layers = [...new Set(layout.map((p) => p.name.split(".")[0]))];
    throw optionError(
      "block",
      `no parameter or layer "${block}"; expected one of ${[...layout.map((p) => p.name), ...layers].join(", ")}`,
    );
  }
  const offset = members[0].offset;
  const end = members[members.length - 1].offset + members[members.length - 1].size;
  return { offset, size: end - offset, names: members.map((p) => p.name) };
}

type Typed = Float32Array | Float64Array;

/** Named tensors -> flat vector, checking names, shapes and finiteness against the layout. */
export function flattenParams(
  layout: ParamLayout,
  tensors: ReadonlyMap<string, { shape: readonly number[]; data: ArrayLike<number> }>,
  out: Typed,
  input: string,
): Typed {
  const expected = new Set(layout.map((p) => p.name));
  const extra = [...tensors.keys()].filter((k) => !expected.has(k));
  if (extra.length) {
    throw new InputError(input, `unexpected tensors ${extra.join(", ")}; the model has ${[...expected].join(", ")}`);
  }
  for (const p of layout) {
    const t = tensors.get(p.name);
    if (!t) throw new InputError(input, `missing tensor "${p.name}" (shape [${p.shape}])`);
    if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      throw new InputError(input, `tensor "${p.name}" has shape [${t.shape}], the model expects [${p.shape}]`);
    }
    for (let i = 0; i < p.size; i++) {
      const v = Number(t.data[i]);
      if (!Number.isFinite(v)) throw new InputError(input, `tensor "${p.name}" holds a non-finite value at ${i}`);
      out[p.offset + i] = v;
    }
  }
  return out;
}

/** Flat vector -> named tensors (views into `flat`). */
export function unflattenParams(layout: ParamLayout, flat: Typed): Map<string, { shape: readonly number[]; data: Typed }> {
  return new Map(layout.map((p) => [p.name, { shape: p.shape, data: flat.subarray(p.offset, p.offset + p.size) }]));
}
