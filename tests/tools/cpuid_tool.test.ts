/**
 * cpuid against Todd Allen's cpuid (http://www.etallen.com/cpuid.html):
 * `cpuid -1 -r -l 7 -s 0` and the raw dump layout; an operand is an error.
 */
import t from 'tap';
import { runShell, type ShellResult } from '../../tools/shell.js';

const sh = (script: string): Promise<ShellResult> => runShell(['--append', 'quiet', '-c', script]);

t.test('C1: cpuid -1 -r -l 7 -s 0, byte for byte', async (t) => {
  const r = await sh('cpuid -1 -r -l 7 -s 0');
  t.same([r.stdout, r.stderr, r.status],
    ['CPU:\n   0x00000007 0x00: eax=0x00000000 ebx=0x01900789 ecx=0x00002000 edx=0x00040000\n', '', 0]);
  const e = await sh('cpuid 7');
  t.same([e.stdout, e.stderr, e.status], ['', 'cpuid: unrecognized argument: 7\n', 1]);
});

t.test('C1: the raw dump: every CPU, basic then extended leaves, subleaves where the leaf has them', async (t) => {
  const r = await sh('cpuid -r');
  const blocks = r.stdout.split(/^(?=CPU \d+:$)/m);
  t.same(blocks.map((b) => b.split('\n')[0]), ['CPU 0:', 'CPU 1:', 'CPU 2:', 'CPU 3:']);
  const leaves = blocks[0].split('\n').slice(1, -1).map((l) => l.slice(3, 18));
  t.ok(leaves.every((l) => /^0x[0-9a-f]{8} 0x[0-9a-f]{2}$/.test(l)), 'each line "   0xLEAF 0xSUB: eax=..."');
  t.equal(leaves[0], '0x00000000 0x00');
  t.ok(leaves.includes('0x0000000b 0x01') && leaves.includes('0x0000000b 0x02'), 'leaf 0xb up to the invalid level');
  t.ok(leaves.includes('0x0000001b 0x01'), 'leaf 0x1b up to the invalid subleaf');
  t.equal(leaves.filter((l) => l.startsWith('0x80000')).length, 9, '0x80000000-0x80000008');
  t.same(leaves.slice(-2), ['0x80860000 0x00', '0xc0000000 0x00']);
  const one = await sh('cpuid -1 -r');
  t.equal(one.stdout.split('\n')[0], 'CPU:', '-1: the current CPU only, headed "CPU:"');
  t.equal(one.stdout.split('\n').length, blocks[0].split('\n').length);
});
