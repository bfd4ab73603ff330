/**
 * user_read_into: a process's loads into a buffer of its own, page piece by page piece,
 * as user_read does into a fresh one; a fault it cannot fix kills the task and leaves
 * the pieces before it loaded.
 */
import t from 'tap';
import { bootKernel, SMALL } from '../lib/boot.js';
import { as, fork, uwrite } from '../lib/task.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, sys_mmap } from '../../mm/mmap.js';
import { user_read, user_read_into } from '../../mm/uaccess.js';
import { SIGSEGV } from '../../kernel/signal.js';
import { EXIT_ZOMBIE } from '../../kernel/sched.js';

t.test('user_read_into fills the caller\'s buffer across pages and at any offset', async (t) => {
  const { init } = bootKernel(SMALL);
  const va = as(init, () => sys_mmap(0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS));
  const data = Uint8Array.from({ length: 3 * 4096 }, (_, i) => (i * 13 + 7) & 0xff);
  t.ok(uwrite(init, va, data).ok);

  const whole = new Uint8Array(3 * 4096);
  t.same(user_read_into(init, va, whole), { ok: true, value: undefined });
  t.same(whole, data, 'three pages into one buffer');

  // An unaligned window of a larger buffer, straddling a page boundary: only it changes.
  const big = new Uint8Array(5000).fill(0xee);
  const win = big.subarray(3, 3 + 4500);
  t.ok(user_read_into(init, va + 4000, win).ok);
  t.same(win, data.subarray(4000, 8500), 'the window holds bytes 4000..8500');
  t.same([big[0], big[1], big[2], big[4503], big[4999]], [0xee, 0xee, 0xee, 0xee, 0xee], 'nothing outside it is written');

  const r = user_read(init, va + 100, 64);
  t.ok(r.ok && Buffer.compare(r.value, data.subarray(100, 164)) === 0, 'user_read is the same load into a new buffer');
});

t.test('a fault user_read_into cannot fix kills the task; the pieces before it are loaded', async (t) => {
  const { init } = bootKernel(SMALL);
  const child = fork(init);
  const va = as(child, () => sys_mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS));
  t.ok(uwrite(child, va, new Uint8Array(4096).fill(0x5a)).ok);
  // The page above the mapping is unmapped (top-down placement leaves the gap above the first mapping).
  const dst = new Uint8Array(8192);
  const r = user_read_into(child, va, dst);
  t.same(r, { ok: false, signal: SIGSEGV }, 'SIGSEGV for the unmapped second page');
  t.ok(dst.subarray(0, 4096).every((b) => b === 0x5a), 'the first page was loaded');
  t.ok(dst.subarray(4096).every((b) => b === 0), 'the second piece was not');
  t.equal(child.exit_state, EXIT_ZOMBIE, 'the task is dead, waiting for its parent');
});
