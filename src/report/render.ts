/**
 * Renders figure specs in Node, with no browser and nothing fetched: Vega-Lite -> Vega (compile)
 * -> SVG (a headless Vega View, renderer "none", `toSVG()`) -> PNG (resvg, a Rust SVG rasterizer
 * shipped as a prebuilt native addon inside its npm package).
 *
 * Fonts: the SVG names the font stack of figures.ts; resvg draws text with the Roboto TrueType
 * files of the `@polymer/font-roboto-local` npm package (Apache-2.0 fonts), so a fresh machine
 * renders the same glyphs. System fonts are loaded too, as a fallback for glyphs Roboto lacks
 * (and for everything if the package's files are missing).
 *
 * PNGs are drawn at `scale` times the SVG's CSS size (default 2: crisp when printed or on HiDPI
 * screens) on an opaque white background.
 */
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { renderAsync, type ResvgRenderOptions } from "@resvg/resvg-js";
import { InputError } from "../errors.ts";
import { useFontMetrics } from "./text-metrics.ts";

export type { TopLevelSpec };

/**
 * Vega-Lite spec -> SVG text (the CSS size is the spec's layout size). The spec is left as it was:
 * Vega tags and extends the rows of inline data it ingests, so it is given a copy.
 */
export async function toSvg(spec: TopLevelSpec): Promise<string> {
  installTextMetrics();
  const vgSpec = compile(structuredClone(spec)).spec;
  const view = new vega.View(vega.parse(vgSpec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The font files resvg draws with and Vega measures with. */
export interface FigureFonts {
  readonly family: string;
  readonly regular: string;
  readonly bold: string;
  /** Every file to load (regular, bold and the italics). */
  readonly files: readonly string[];
}

// Debian/Ubuntu's DejaVu, used only when the npm font package is missing.
const SYSTEM_FALLBACK = "/usr/share/fonts/truetype/dejavu";

let fontsCache: FigureFonts | null | undefined;

/**
 * Roboto from the `@polymer/font-roboto-local` package; failing that, the system's DejaVu Sans;
 * null when neither is there (resvg then uses whatever system fonts it finds).
 */
export function figureFonts(): FigureFonts | null {
  if (fontsCache !== undefined) return fontsCache;
  const pick = (family: string, dir: string, names: string[]): FigureFonts | null => {
    const files = names.map((f) => join(dir, f));
    if (!files.slice(0, 2).every((f) => existsSync(f))) return null;
    return { family, regular: files[0], bold: files[1], files: files.filter((f) => existsSync(f)) };
  };
  let fonts: FigureFonts | null = null;
  try {
    const pkg = createRequire(import.meta.url).resolve("@polymer/font-roboto-local/package.json");
    fonts = pick("Roboto", join(dirname(pkg), "fonts", "roboto"),
      ["Roboto-Regular.ttf", "Roboto-Bold.ttf", "Roboto-Italic.ttf", "Roboto-BoldItalic.ttf"]);
  } catch {
    // Not installed: fall through to the system fonts.
  }
  fonts ??= pick("DejaVu Sans", SYSTEM_FALLBACK,
    ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf"]);
  return (fontsCache = fonts);
}

let metricsInstalled = false;

/** Vega measures text with the font the PNG is drawn with (once per process). */
function installTextMetrics(): void {
  if (metricsInstalled) return;
  metricsInstalled = true;
  const fonts = figureFonts();
  if (fonts) useFontMetrics(fonts.regular, fonts.bold);
}

function resvgOptions(scale: number): ResvgRenderOptions {
  const fonts = figureFonts();
  return {
    fitTo: { mode: "zoom", value: scale },
    background: "white",
    font: {
      fontFiles: fonts ? [...fonts.files] : [],
      // Also the fallback for glyphs the figure font lacks.
      loadSystemFonts: true,
      ...(fonts ? { defaultFontFamily: fonts.family, sansSerifFamily: fonts.family } : {}),
    },
    shapeRendering: 2, // geometricPrecision: anti-aliased bars and lines
    textRendering: 1, // optimizeLegibility
  };
}

function checkScale(scale: number): void {
  if (!(Number.isFinite(scale) && scale > 0 && scale <= 16)) {
    throw new InputError("scale", `expected a number in (0, 16], got ${scale}`);
  }
}

/** An RGBA raster of an SVG (every pixel opaque: the background is white). */
export interface Raster {
  readonly width: number;
  readonly height: number;
  /** width * height * 4 bytes, row-major RGBA. */
  readonly rgba: Uint8Array;
  /** The same image encoded as PNG. */
  png(): Uint8Array;
}

/** Rasterizes SVG text at `scale` times its CSS size (off the main thread). */
export async function rasterize(svg: string, scale = 2): Promise<Raster> {
  checkScale(scale);
  const img = await renderAsync(svg, resvgOptions(scale));
  const view = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return { width: img.width, height: img.height, rgba: view(img.pixels), png: () => view(img.asPng()) };
}

/** Vega-Lite spec -> PNG bytes at `scale` (default 2) times the SVG's size. */
export async function toPng(spec: TopLevelSpec, opts: { scale?: number } = {}): Promise<Uint8Array> {
  const scale = opts.scale ?? 2;
  checkScale(scale);
  return (await rasterize(await toSvg(spec), scale)).png();
}

let tmpCounter = 0;

/**
 * Writes `<dir>/<name>.svg` and `<dir>/<name>.png` (creating `dir`). Both are rendered before
 * anything is written, and each file appears whole: written to a temporary name, then renamed.
 */
export async function writeFigure(
  dir: string,
  name: string,
  spec: TopLevelSpec,
  opts: { scale?: number } = {},
): Promise<{ svg: string; png: string }> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new InputError("figure name", `expected letters, digits, '.', '_' or '-' (no path), got ${JSON.stringify(name)}`);
  }
  const scale = opts.scale ?? 2;
  checkScale(scale);
  const svg = await toSvg(spec);
  const png = (await rasterize(svg, scale)).png();
  await mkdir(dir, { recursive: true });
  const out = { svg: join(dir, `${name}.svg`), png: join(dir, `${name}.png`) };
  const tag = `.tmp-${process.pid}-${++tmpCounter}`;
  const tmp = { svg: out.svg + tag, png: out.png + tag };
  try {
    await writeFile(tmp.svg, svg);
    await writeFile(tmp.png, png);
    await rename(tmp.svg, out.svg);
    await rename(tmp.png, out.png);
  } catch (err) {
    await Promise.all([rm(tmp.svg, { force: true }), rm(tmp.png, { force: true })]);
    throw err;
  }
  return out;
}
