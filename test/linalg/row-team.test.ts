import { test } from "node:test";
import assert from "node:assert/strict";
import { openSession, sharedFloat64, teamsAvailable, type TeamArg } from "../../src/linalg/row-team.ts";

/** Marks rows [r0, r1) of `out` with `mark`, and counts visits (a self-contained kernel). */
function markRows(out: Float64Array, visits: Float64Array, mark: number, r0: number, r1: number, first: number): void {
  for (let r = r0; r < r1; r++) {
    out[r] += mark;
    visits[r] += 1;
  }
  if (first) visits[visits.length - 1] += 1; // one per helper and command
}

const skip = !teamsAvailable() && "no worker threads here";

test("row-team: every chunk runs exactly once, on the caller or a helper", { skip }, () => {
  const rows = 1000;
  const helpers = 2;
  const out = sharedFloat64(rows);
  const visits = Array.from({ length: helpers + 1 }, () => sharedFloat64(rows + 1));
  const session = openSession("row-team-test", [markRows], visits.slice(1).map((v) => [out, v]));
  assert.ok(session, "a session opens where worker threads exist");
  try {
    const chunks = 37;
    const bounds = Array.from({ length: chunks + 1 }, (_, c) => Math.round((rows * c) / chunks));
    for (let cmd = 1; cmd <= 50; cmd++) {
      const args: TeamArg[][] = Array.from({ length: helpers }, () => [{ array: 0 }, { array: 1 }, cmd]);
      const took: boolean[] = session.run(0, args, bounds, chunks, (r0, r1) => markRows(out, visits[0], cmd, r0, r1, 0));
      assert.equal(took.length, helpers);
      // Each helper counts one "first" per command it took part in.
      for (let h = 0; h < helpers; h++) if (took[h]) visits[h + 1][rows] -= 1;
    }
  } finally {
    session.close();
  }
  const total = (50 * 51) / 2;
  for (let r = 0; r < rows; r++) {
    assert.equal(out[r], total, `row ${r}`);
    assert.equal(visits.reduce((s, v) => s + v[r], 0), 50, `row ${r} visits`);
  }
  for (let h = 1; h <= helpers; h++) assert.equal(visits[h][rows], 0, "participation reported exactly");
});

test("row-team: no session for arrays that are not shared", { skip }, () => {
  assert.equal(openSession("row-team-test", [markRows], [[new Float64Array(4), sharedFloat64(4)]]), null);
});
