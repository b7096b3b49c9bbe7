/**
 * Node 20 lacks two globals that @jax-js/jax touches: `Float16Array` (checked with `instanceof`
 * when arrays are built from typed arrays) and the Iterator helpers (`.map`, `.filter`,
 * `.toArray`, ... on iterators; used by einsum and attention). Both are supplied here, minimally,
 * only where missing, so newer runtimes and browsers keep their native versions.
 */
const g = globalThis as Record<string, unknown>;

if (typeof g.Float16Array === "undefined") {
  // Never instantiated by curvlab: it only has to exist so that `x instanceof Float16Array` is false.
  g.Float16Array = class Float16ArrayUnsupported {
    constructor() {
      throw new Error("Float16Array is not available in this JavaScript runtime");
    }
  };
}

type AnyIterator = Iterator<unknown> & Record<string, unknown>;
const iteratorProto = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as Record<
  string,
  unknown
>;

function defineHelper(name: string, fn: (this: AnyIterator, ...args: any[]) => unknown): void {
  if (typeof iteratorProto[name] !== "function") {
    Object.defineProperty(iteratorProto, name, { value: fn, writable: true, configurable: true });
  }
}

function* mapGen(it: AnyIterator, f: (v: unknown, i: number) => unknown) {
  let i = 0;
  for (let r = it.next(); !r.done; r = it.next()) yield f(r.value, i++);
}
function* filterGen(it: AnyIterator, f: (v: unknown, i: number) => unknown) {
  let i = 0;
  for (let r = it.next(); !r.done; r = it.next()) if (f(r.value, i++)) yield r.value;
}
function* flatMapGen(it: AnyIterator, f: (v: unknown, i: number) => Iterable<unknown>) {
  let i = 0;
  for (let r = it.next(); !r.done; r = it.next()) yield* f(r.value, i++);
}
function* takeGen(it: AnyIterator, n: number) {
  for (let k = 0; k < n; k++) {
    const r = it.next();
    if (r.done) return;
    yield r.value;
  }
}
function* dropGen(it: AnyIterator, n: number) {
  for (let k = 0; k < n; k++) if (it.next().done) return;
  for (let r = it.next(); !r.done; r = it.next()) yield r.value;
}

defineHelper("map", function (f) { return mapGen(this, f); });
defineHelper("filter", function (f) { return filterGen(this, f); });
defineHelper("flatMap", function (f) { return flatMapGen(this, f); });
defineHelper("take", function (n) { return takeGen(this, n); });
defineHelper("drop", function (n) { return dropGen(this, n); });
defineHelper("toArray", function () {
  const out: unknown[] = [];
  for (let r = this.next(); !r.done; r = this.next()) out.push(r.value);
  return out;
});
defineHelper("forEach", function (f) {
  let i = 0;
  for (let r = this.next(); !r.done; r = this.next()) f(r.value, i++);
});
defineHelper("reduce", function (f, ...init) {
  let i = 0;
  let r = this.next();
  let acc: unknown;
  if (init.length > 0) acc = init[0];
  else {
    if (r.done) throw new TypeError("Reduce of empty iterator with no initial value");
    acc = r.value; r = this.next(); i = 1;
  }
  for (; !r.done; r = this.next()) acc = f(acc, r.value, i++);
  return acc;
});
defineHelper("some", function (f) {
  let i = 0;
  for (let r = this.next(); !r.done; r = this.next()) if (f(r.value, i++)) return true;
  return false;
});
defineHelper("every", function (f) {
  let i = 0;
  for (let r = this.next(); !r.done; r = this.next()) if (!f(r.value, i++)) return false;
  return true;
});
defineHelper("find", function (f) {
  let i = 0;
  for (let r = this.next(); !r.done; r = this.next()) if (f(r.value, i++)) return r.value;
  return undefined;
});

export {};
