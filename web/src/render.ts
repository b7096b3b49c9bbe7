/**
 * Draws the report's Vega-Lite specs (src/report: the same specs the CLI renders to SVG/PNG)
 * into the page: vega-lite compiles, vega renders SVG into the figure's element. Each figure
 * element gets `data-marks` (the number of data rows drawn) so tests and users can tell an empty
 * figure from a drawn one. A spec that cannot be built (e.g. no positive value for a log axis)
 * shows its message in place of the figure instead of breaking the page.
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

const views = new WeakMap<HTMLElement, vega.View>();

/** Number of inline data rows of a spec (its layers' included). */
function rowsOf(spec: unknown): number {
  if (!spec || typeof spec !== "object") return 0;
  const s = spec as { data?: { values?: unknown[] }; layer?: unknown[]; vconcat?: unknown[]; hconcat?: unknown[]; concat?: unknown[] };
  let n = Array.isArray(s.data?.values) ? s.data!.values!.length : 0;
  for (const k of ["layer", "vconcat", "hconcat", "concat"] as const) for (const c of s[k] ?? []) n += rowsOf(c);
  return n;
}

/** Renders `build()`'s spec into `el` (replacing what was there). */
export async function drawFigure(el: HTMLElement, build: () => TopLevelSpec): Promise<void> {
  views.get(el)?.finalize();
  views.delete(el);
  let spec: TopLevelSpec;
  try {
    spec = build();
  } catch (e) {
    el.replaceChildren(message(`Figure not drawn: ${(e as Error).message}`));
    el.dataset.marks = "0";
    return;
  }
  // The report's panel sizes as they are; CSS scales the SVG (it has a viewBox) to the card.
  const compiled = compile(spec).spec;
  const holder = document.createElement("div");
  el.replaceChildren(holder);
  const view = new vega.View(vega.parse(compiled), { renderer: "svg", container: holder, hover: true });
  views.set(el, view);
  await view.runAsync();
  el.dataset.marks = String(rowsOf(spec));
}

export function clearFigure(el: HTMLElement, text: string): void {
  views.get(el)?.finalize();
  views.delete(el);
  el.replaceChildren(message(text));
  el.dataset.marks = "0";
}

function message(text: string): HTMLElement {
  const p = document.createElement("p");
  p.className = "figure-empty";
  p.textContent = text;
  return p;
}
