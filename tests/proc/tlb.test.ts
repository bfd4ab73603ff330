/**
 * TLB shootdown: a CPU that ran a process keeps its translations after the process
 * moves away (lazy TLB mode keeps the mm loaded and the CPU in mm_cpumask), so munmap
 * and mprotect must flush that CPU too, or the process would reach a freed page
 * through a stale entry when it comes back.
 */
import t from 'tap';
import { bootKernel, SMALL } from '../lib/boot.js';
import { as, dec, fork, uread, uwrite } from '../lib/task.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, sys_mmap, sys_munmap } from '../../mm/mmap.js';
import { sys_mprotect } from '../../mm/mprotect.js';
import { sched_setaffinity } from '../../kernel/sched.js';
import { cpu_loaded_mm, tlb_stats } from '../../arch/x86/mm/tlb.js';
import { SIGSEGV } from '../../kernel/signal.js';
import { sys_exit } from '../../kernel/exit.js';

const RW = PROT_READ | PROT_WRITE;

t.test('munmap reaches a lazy CPU', async (t) => {
  const r = bootKernel(SMALL);
  const p = fork(r.init);
  const c1 = p.cpu;
  const c2 = (c1 + 2) % r.machine.cpus.length; // the other package
  const a = as(p, () => sys_mmap(0, 2 * 4096, RW, MAP_PRIVATE | MAP_ANONYMOUS));
  t.ok(uwrite(p, a, 'first').ok);
  t.ok(uwrite(p, a + 4096, 'second').ok);
  const tlb1 = r.machine.cpus[c1].tlb;
  t.ok(tlb1.lookup(a / 4096) >= 0, `CPU ${c1} caches the translation`);

  t.equal(sched_setaffinity(p.pid, c2), 0);
  const s = uread(p, a + 4096, 6);
  t.equal(s.ok && dec(s.value), 'second', `runs on CPU ${c2} now`);
  t.equal(cpu_loaded_mm(c1), p.mm, `CPU ${c1} still has the mm loaded (lazy)`);
  t.same([...p.mm!.cpumask].sort(), [c1, c2].sort(), 'both CPUs in mm_cpumask');
  t.ok(tlb1.lookup(a / 4096) >= 0, 'and the stale-to-be entry');

  const remote = tlb_stats.nr_tlb_remote_flush;
  t.equal(as(p, () => sys_munmap(a, 4096)), 0);
  t.equal(tlb_stats.nr_tlb_remote_flush, remote + 1, 'one remote flush');
  t.equal(tlb1.lookup(a / 4096), -1, `CPU ${c1}'s entry is gone`);
  t.ok(tlb1.lookup((a + 4096) / 4096) >= 0, 'INVLPG of the range only');

  t.equal(sched_setaffinity(p.pid, c1), 0);
  t.same(uread(p, a, 5), { ok: false, signal: SIGSEGV }, 'back on the old CPU: the page is gone, not stale');
});

t.test('mprotect reaches a lazy CPU', async (t) => {
  const r = bootKernel(SMALL);
  const p = fork(r.init);
  const c1 = p.cpu;
  const c2 = (c1 + 1) % r.machine.cpus.length;
  const a = as(p, () => sys_mmap(0, 4096, RW, MAP_PRIVATE | MAP_ANONYMOUS));
  t.ok(uwrite(p, a, 'w').ok);
  t.equal(sched_setaffinity(p.pid, c2), 0);
  t.equal(as(p, () => sys_mprotect(a, 4096, PROT_READ)), 0);
  t.equal(r.machine.cpus[c1].tlb.lookup(a / 4096), -1, 'the writable entry is flushed');
  t.equal(sched_setaffinity(p.pid, c1), 0);
  t.same(uwrite(p, a, 'x'), { ok: false, signal: SIGSEGV }, 'a store on the old CPU faults');
});

t.test('exit unloads the mm from every CPU', async (t) => {
  const r = bootKernel(SMALL);
  const p = fork(r.init);
  const c1 = p.cpu;
  const a = as(p, () => sys_mmap(0, 4096, RW, MAP_PRIVATE | MAP_ANONYMOUS));
  t.ok(uwrite(p, a, 'w').ok);
  t.equal(sched_setaffinity(p.pid, (c1 + 1) % 4), 0);
  t.ok(uread(p, a, 1).ok);
  const mm = p.mm!;
  as(p, () => sys_exit(0));
  t.equal(mm.cpumask.size, 0, 'no CPU holds it');
  // Each CPU switched away: to init's mm where init last ran (lazily kept), else to init_mm (null).
  for (let cpu = 0; cpu < 4; cpu++) t.equal(cpu_loaded_mm(cpu), cpu === r.init.cpu ? r.init.mm : null, `CPU ${cpu} switched away`);
  t.equal(r.machine.cpus[c1].tlb.lookup(a / 4096), -1);
  t.equal(mm.pgd, 0, 'the pgd is freed');
});
