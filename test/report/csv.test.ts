// The CSV writer (report/csv.ts) against RFC 4180 and the CSV reader (data/csv.ts): quoting,
// CRLF line ends, and numbers that read back to exactly the same float64.
import { test } from "node:test";
import assert from "node:assert/strict";
import { columnsToCsv, toCsv } from "../../src/report/csv.ts";
import { parseCsvRows } from "../../src/data/csv.ts";

test("fields with commas, quotes and line breaks are quoted; rows end in CRLF", () => {
  const text = toCsv(["name", "value"], [["a,b", 1], ['say "hi"', 2], ["two\nlines", null], ["plain", true]]);
  assert.equal(text, 'name,value\r\n"a,b",1\r\n"say ""hi""",2\r\n"two\nlines",\r\nplain,true\r\n');
  const rows = parseCsvRows(text, "t.csv").map((r) => r.cells);
  assert.deepEqual(rows, [["name", "value"], ["a,b", "1"], ['say "hi"', "2"], ["two\nlines", ""], ["plain", "true"]]);
});

test("numbers read back to the same float64 (shortest round-trip text)", () => {
  // Awkward values: subnormals, extremes, values with 17 significant digits, negative zero aside.
  const values = [0.1 + 0.2, 1 / 3, -2.220446049250313e-16, 5e-324, 1.7976931348623157e308, 123456789.12345679, -0.000123, 1e21, 42];
  for (let i = 0; i < 200; i++) values.push(Math.sin(i * 12.9898) * 10 ** ((i % 40) - 20));
  const text = columnsToCsv({ index: values.map((_, i) => i), value: values });
  const [header, ...rows] = parseCsvRows(text, "v.csv").map((r) => r.cells);
  assert.deepEqual(header, ["index", "value"]);
  rows.forEach((r, i) => {
    assert.equal(Number(r[0]), i);
    assert.ok(Object.is(Number(r[1]), values[i]), `${r[1]} vs ${values[i]}`);
  });
  // Non-finite values keep their names (JSON would turn them into null).
  assert.equal(toCsv(["x"], [[NaN], [Infinity], [-Infinity]]), "x\r\nNaN\r\nInfinity\r\n-Infinity\r\n");
});

test("ragged rows and columns are refused", () => {
  assert.throws(() => toCsv(["a", "b"], [[1]]), /row 0 has 1 cells, expected 2/);
  assert.throws(() => columnsToCsv({ a: [1, 2], b: [1] }), /column "b" has 1 values, expected 2/);
  assert.throws(() => toCsv([], []), /at least one column/);
});
