/**
 * A short fixed slice of the fuzz campaign (make fuzz runs the long one): a few seeded
 * cases over several machine configurations, valid sequences against the reference
 * model and malformed commands; no failure may appear, and the same case twice gives
 * the same transcript. Also: the harness does catch what it claims to (a broken
 * kernel is reported with a replayable command line).
 */
import t from 'tap';
import { fuzz, caseSpec } from '../../tools/fuzz/main.js';
import { prepareVms, replayLine, runCase, shrink, CONFIGS } from '../../tools/fuzz/harness.js';

t.before(prepareVms);

t.test('a fixed slice: no failures', (t) => {
  const s = fuzz(20251201, 1e9, 4, 100);
  t.equal(s.cases, 4);
  t.ok(s.ops >= 4 * 100, `${s.ops} ops`);
  t.same(s.failures, []);
  t.end();
});

t.test('a valid case that drives the disk and a VM', (t) => {
  // seed 42 on the default machine: blk write/read checked against the model, and one
  // guest created (on a key), a marker written and read in it, destroyed
  const r = runCase({ seed: 42, config: CONFIGS[0], kind: 'valid', ops: 60 }, null);
  t.equal(r.failure, null);
  t.match(r.transcript, /bytes read from vda at sector/);
  t.match(r.transcript, /running, VMM pid \d+/);
  t.ok(r.ops.some((o) => o[0] === 'vm' && o[1] === 'destroy'), 'the VM was destroyed');
  t.end();
});

t.test('same seed, same transcript', (t) => {
  const spec = caseSpec(7, 0, 80);
  t.equal(runCase(spec, null).transcript, runCase(spec, null).transcript);
  t.end();
});

t.test('a failure is found, shrunk and given a replay line', (t) => {
  // an internal error planted in a command the malformed generator uses
  const spec = { seed: 5, config: CONFIGS[0], kind: 'malformed' as const, ops: 0 };
  const ops = [['echo', 'a'], ['echo', 'internal error: planted'], ['echo', 'b']];
  const r = runCase(spec, ops);
  t.match(r.failure, /^bad output from 'echo internal error: planted'/);
  const small = shrink(spec, r, true);
  t.same(small, [['echo', 'internal error: planted']]);
  t.equal(replayLine(spec, small),
    "node build/tools/shell.js --seed 5 --mem 32M --nvram 0 --append quiet -c 'echo '\\''internal error: planted'\\'''");
  t.end();
});
