/** Checks of rendered reports shared by the report and study tests. */
import assert from "node:assert/strict";

const VOID = new Set(["meta", "br", "hr", "img", "link", "input"]);

/**
 * Well-formedness without a DOM: every tag closes in order (HTML void elements and SVG's
 * self-closing tags aside), attribute values are quoted, no stray '<' or '>' in text, and every
 * '&' starts an entity. Returns the tag names in document order.
 */
export function assertWellFormedHtml(html: string): string[] {
  assert.ok(html.startsWith("<!DOCTYPE html>\n"), "doctype first");
  const body = html.slice("<!DOCTYPE html>".length);
  const stack: string[] = [];
  const names: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+(?:="[^"]*")?)*)\s*(\/?)>/g;
  let last = 0;
  for (const m of body.matchAll(tag)) {
    const text = body.slice(last, m.index);
    assert.ok(!/[<>]/.test(text), `stray '<' or '>' near offset ${m.index}: ${JSON.stringify(text.slice(0, 80))}`);
    assert.ok(!/&(?![a-z]+;|#\d+;)/.test(text), `bare '&' near offset ${m.index}`);
    last = m.index + m[0].length;
    const [, close, name, , selfClose] = m;
    if (close) assert.equal(stack.pop(), name, `unbalanced </${name}> at offset ${m.index}`);
    else {
      names.push(name);
      if (!selfClose && !VOID.has(name)) stack.push(name);
    }
  }
  assert.ok(!/[<>]/.test(body.slice(last)), "stray '<' or '>' at the end");
  assert.equal(stack.length, 0, `unclosed <${stack.at(-1)}>`);
  return names;
}

/** Distinct RGB colours of a decoded PNG's RGBA pixels. */
export function colours(rgba: Uint8Array): number {
  const set = new Set<number>();
  for (let i = 0; i < rgba.length; i += 4) set.add((rgba[i] << 16) | (rgba[i + 1] << 8) | rgba[i + 2]);
  return set.size;
}
