/**
 * Memory management under the real boot sequence (start_kernel): a 2 x 8 GiB machine
 * boots, every CPU runs on the kernel page tables, the mm files are registered, and
 * `mem=` / `mktme.noflush` from the command line reach memblock and the MKTME code.
 */
import t from 'tap';
import { GiB, makeConfig } from '../../arch/x86/hw/config.js';
import { Machine } from '../../arch/x86/hw/machine.js';
import { nr_cpu_ids, read_cr3, smp_call_function_single } from '../../arch/x86/include/asm/processor.js';
import { init_mm_pgd } from '../../arch/x86/mm/init.js';
import { mktme_noflush, mktme_nr_keyids } from '../../arch/x86/mm/mktme.js';
import { vfs_read } from '../../fs/proc/generic.js';
import { start_kernel } from '../../init/main.js';
import { memblock_end_of_DRAM } from '../../mm/memblock.js';
import { GFP_KERNEL, __free_pages, alloc_pages, max_pfn } from '../../mm/page_alloc.js';
import { page_to_nid } from '../../mm/page.js';

t.test('a 16 GiB machine boots through start_kernel', (t) => {
  const m = new Machine(makeConfig({ memPerNode: 8 * GiB }));
  const lines: string[] = [];
  start_kernel(m.bootParams(''), (l) => lines.push(l));
  t.ok(lines.some((l) => /Memory: \d+K\/16776192K available/.test(l)), 'Memory: line');
  t.equal(max_pfn, 17 * GiB / 4096);
  t.equal(mktme_nr_keyids(), 63);
  for (let cpu = 0; cpu < nr_cpu_ids(); cpu++) {
    t.equal(smp_call_function_single(cpu, () => read_cr3()), init_mm_pgd(), `CPU ${cpu} on the kernel tables`);
  }
  for (const f of ['/proc/meminfo', '/proc/iomem', '/proc/buddyinfo', '/sys/kernel/mm/mktme/nr_keyids',
    '/sys/kernel/mm/mktme/keyid_pages']) {
    t.equal(typeof vfs_read(f), 'string', `${f} registered`);
  }
  t.match(vfs_read('/proc/meminfo') as string, /^DirectMap1G: {4}16777216 kB$/m);
  const p = smp_call_function_single(3, () => alloc_pages(GFP_KERNEL, 0, 1));
  t.equal(page_to_nid(p), 1, 'CPU 3 (package 1) allocates on node 1');
  __free_pages(p, 0);
  t.end();
});

t.test('mem= and mktme.noflush from the command line', (t) => {
  const m = new Machine(makeConfig());
  start_kernel(m.bootParams('mem=200M mktme.noflush'), null);
  t.equal(memblock_end_of_DRAM(), 200 * 1024 * 1024);
  t.ok(mktme_noflush());
  start_kernel(new Machine(makeConfig()).bootParams(''), null);
  t.notOk(mktme_noflush(), 'reset by the next boot');
  t.end();
});
