/**
 * mmap / munmap: argument checking (Linux's errno for each), deterministic top-down
 * placement, hints, MAP_FIXED and MAP_FIXED_NOREPLACE, splitting on munmap, page tables
 * released, and nothing changed by a failing call.
 */
import t from 'tap';
import { bootKernel, SMALL } from '../lib/boot.js';
import { as, uread, uwrite } from '../lib/task.js';
import {
  MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_PRIVATE, MAP_SHARED, PROT_NONE, PROT_READ, PROT_WRITE,
  sys_mmap, sys_munmap,
} from '../../mm/mmap.js';
import { show_maps } from '../../fs/proc/task_mmu.js';
import { EBADF, EEXIST, EINVAL, ENOMEM, EPERM } from '../../kernel/errno.js';
import { nr_free_pages } from '../../mm/page_alloc.js';
import { MMAP_BASE, TASK_SIZE } from '../../mm/vma.js';

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

t.test('placement: top-down below mmap_base, merged when compatible', async (t) => {
  const { init } = bootKernel(SMALL);
  const mm = init.mm!;
  const a = as(init, () => sys_mmap(0, 4096, RW, ANON));
  t.equal(a, MMAP_BASE - 4096, 'first mapping ends at 0x7f0000000000');
  const b = as(init, () => sys_mmap(0, 3 * 4096 + 1, RW, ANON));
  t.equal(b, a - 4 * 4096, 'length rounded up to pages, placed just below');
  t.equal(mm.mmap.length, 1, 'adjacent private mappings with the same flags merge');
  const c = as(init, () => sys_mmap(0, 4096, PROT_READ, ANON));
  t.equal(c, b - 4096);
  t.equal(mm.mmap.length, 2, 'different protections do not merge');
  const s = as(init, () => sys_mmap(0, 4096, RW, MAP_SHARED | MAP_ANONYMOUS));
  t.equal(mm.mmap.length, 3, 'a shared mapping is its own object');
  const prefix = `${s.toString(16)}-${(s + 4096).toString(16)} rw-s 00000000 00:01 1 `;
  t.equal(show_maps(mm).split('\n')[0], prefix + ' '.repeat(72 - prefix.length) + ' /dev/zero (deleted)', 'Linux pads to column 73');
  const hint = as(init, () => sys_mmap(0x10000000, 4096, RW, ANON));
  t.equal(hint, 0x10000000, 'a free hint is honoured');
  const taken = as(init, () => sys_mmap(0x10000000, 4096, RW, ANON));
  t.equal(taken, s - 4096, 'a taken hint is not: the next free range top-down');
});

t.test('argument errors change nothing', async (t) => {
  const { init } = bootKernel(SMALL);
  const mm = init.mm!;
  const a = as(init, () => sys_mmap(0, 8192, RW, ANON));
  const before = show_maps(mm);
  const free = nr_free_pages();
  const cases: [string, () => number, number][] = [
    ['len 0', () => sys_mmap(0, 0, RW, ANON), -EINVAL],
    ['neither shared nor private', () => sys_mmap(0, 4096, RW, MAP_ANONYMOUS), -EINVAL],
    ['shared|private', () => sys_mmap(0, 4096, RW, MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS | 0x4), -EINVAL],
    ['file mapping without a file', () => sys_mmap(0, 4096, RW, MAP_PRIVATE, 3), -EBADF],
    ['unaligned offset', () => sys_mmap(0, 4096, RW, ANON, -1, 100), -EINVAL],
    ['unaligned MAP_FIXED', () => sys_mmap(a + 1, 4096, RW, ANON | MAP_FIXED), -EINVAL],
    ['MAP_FIXED beyond TASK_SIZE', () => sys_mmap(TASK_SIZE - 4096, 8192, RW, ANON | MAP_FIXED), -ENOMEM],
    ['MAP_FIXED below mmap_min_addr', () => sys_mmap(0, 4096, RW, ANON | MAP_FIXED), -EPERM],
    ['too long', () => sys_mmap(0, 2 ** 47, RW, ANON), -ENOMEM],
    ['not a number', () => sys_mmap(0, NaN, RW, ANON), -EINVAL],
    ['negative length', () => sys_mmap(0, -4096, RW, ANON), -EINVAL],
    ['MAP_FIXED_NOREPLACE on a mapping', () => sys_mmap(a, 4096, RW, ANON | MAP_FIXED_NOREPLACE), -EEXIST],
    ['munmap unaligned', () => sys_munmap(a + 1, 4096), -EINVAL],
    ['munmap len 0', () => sys_munmap(a, 0), -EINVAL],
    ['munmap beyond TASK_SIZE', () => sys_munmap(TASK_SIZE, 4096), -EINVAL],
    ['munmap huge', () => sys_munmap(a, 2 ** 60), -EINVAL],
  ];
  for (const [what, fn, want] of cases) t.equal(as(init, fn), want, what);
  t.equal(show_maps(mm), before, 'mappings unchanged');
  t.equal(nr_free_pages(), free, 'no page allocated or freed');
});

t.test('MAP_FIXED replaces, munmap splits and frees', async (t) => {
  const { init } = bootKernel(SMALL);
  const mm = init.mm!;
  const free0 = nr_free_pages();
  const a = as(init, () => sys_mmap(0, 16 * 4096, RW, ANON));
  for (let i = 0; i < 16; i++) t.ok(uwrite(init, a + i * 4096, `page ${i}`).ok);
  t.equal(mm.rss_anon, 16);
  // Replace pages 4..5 with a fresh mapping: old contents gone, new zeroed.
  t.equal(as(init, () => sys_mmap(a + 4 * 4096, 2 * 4096, PROT_READ, ANON | MAP_FIXED)), a + 4 * 4096);
  t.equal(mm.mmap.length, 3, 'split around the fixed mapping');
  t.equal(mm.rss_anon, 14);
  const z = uread(init, a + 4 * 4096, 8);
  t.ok(z.ok && z.value.every((b) => b === 0), 'fixed mapping is new zeroed memory');
  t.equal(mm.rss_anon, 15, 'reading it faulted a page in');
  // Punch a hole in the middle of the last piece.
  t.equal(as(init, () => sys_munmap(a + 10 * 4096, 4096)), 0);
  t.equal(mm.mmap.length, 4);
  t.equal(mm.rss_anon, 14);
  const r9 = uread(init, a + 9 * 4096, 6);
  t.ok(r9.ok && new TextDecoder().decode(r9.value) === 'page 9', 'neighbours keep their data');
  t.equal(as(init, () => sys_munmap(a + 100 * 4096, 4096)), 0, 'unmapping a hole is fine');
  t.equal(as(init, () => sys_munmap(a - 4096, 18 * 4096)), 0, 'unmap all of it, and more');
  t.equal(mm.mmap.length, 0);
  t.equal(mm.rss_anon, 0);
  t.equal(mm.pgtables_bytes, 4096, 'only the pgd is left');
  t.equal(nr_free_pages(), free0, 'every page and page table back');
});

t.test('PROT_NONE mapping', async (t) => {
  const { init } = bootKernel(SMALL);
  const a = as(init, () => sys_mmap(0, 4096, PROT_NONE, ANON));
  t.match(show_maps(init.mm!), `${a.toString(16)}-${(a + 4096).toString(16)} ---p 00000000 00:00 0 \n`);
});
