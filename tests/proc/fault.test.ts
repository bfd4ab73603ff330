/**
 * User faults: demand paging (RSS grows as pages are touched, zeroed pages), and every
 * access the VMA does not allow (no VMA, write to read-only, fetch from NX, PROT_NONE,
 * a kernel address, a non-canonical address) kills the process with SIGSEGV. The
 * process's memory is freed, its parent reaps it and the kernel carries on.
 */
import t, { type Test } from 'tap';
import { bootKernel, SMALL, logLines, type Booted } from '../lib/boot.js';
import { as, fork, uread, ufetch, uwrite } from '../lib/task.js';
import {
  MAP_ANONYMOUS, MAP_PRIVATE, PROT_EXEC, PROT_NONE, PROT_READ, PROT_WRITE, sys_mmap,
} from '../../mm/mmap.js';
import { sys_mprotect } from '../../mm/mprotect.js';
import { EXIT_ZOMBIE, find_task_by_vpid, type task_struct } from '../../kernel/sched.js';
import { kernel_wait4, WTERMSIG, WIFSIGNALED } from '../../kernel/exit.js';
import { SIGSEGV } from '../../kernel/signal.js';
import { proc_pid_status } from '../../fs/proc/array.js';
import { nr_free_pages } from '../../mm/page_alloc.js';
import { PAGE_OFFSET } from '../../arch/x86/include/asm/page.js';
import { this_cpu } from '../../arch/x86/include/asm/processor.js';
import { vfs_read } from '../../fs/proc/generic.js';

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

function vmrss(tsk: task_struct): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(proc_pid_status(tsk))![1]);
}

t.test('demand paging', async (t) => {
  const { init } = bootKernel(SMALL);
  const a = as(init, () => sys_mmap(0, 64 * 4096, RW, ANON));
  t.equal(vmrss(init), 0, 'nothing resident after mmap');
  t.equal(init.mm!.total_vm, 64);
  t.ok(uwrite(init, a, 'x').ok);
  t.equal(vmrss(init), 4, 'one page after the first store');
  t.ok(uwrite(init, a + 10 * 4096 + 4090, 'crosses a page').ok);
  t.equal(vmrss(init), 12, 'a store across a page boundary faults both pages in');
  const r = uread(init, a + 30 * 4096, 4096);
  t.ok(r.ok && r.value.every((b) => b === 0), 'an untouched page reads as zeros');
  t.equal(vmrss(init), 16);
  t.ok(uread(init, a, 1).ok);
  t.equal(vmrss(init), 16, 'touching a resident page again costs nothing');
  t.equal(this_cpu().cpl, 0, 'back at CPL 0');
});

/** Fork a child of init, let `setup` map memory in it, then `access` it. */
function killed_by(t: Test, r: Booted, setup: (c: task_struct) => number,
  access: (c: task_struct, a: number) => { ok: boolean }): void {
  const free = nr_free_pages();
  const child = fork(r.init);
  const a = as(child, () => setup(child));
  const res = access(child, a);
  t.notOk(res.ok, 'the access did not complete');
  t.same(res, { ok: false, signal: SIGSEGV }, 'SIGSEGV');
  t.equal(child.exit_state, EXIT_ZOMBIE, 'the process is dead');
  t.equal(child.mm, null, 'its address space is gone');
  t.equal(vfs_read(`/proc/${child.pid}/maps`), '', 'a zombie has no maps');
  const st = { value: 0 };
  t.equal(kernel_wait4(r.init, child.pid, st), child.pid, 'the parent reaps it');
  t.ok(WIFSIGNALED(st.value) && WTERMSIG(st.value) === SIGSEGV, 'killed by SIGSEGV');
  t.equal(find_task_by_vpid(child.pid), null, 'and it is gone');
  t.equal(nr_free_pages(), free, 'every page it used is free again');
}

t.test('fatal faults', async (t) => {
  const r = bootKernel(SMALL);
  t.test('no VMA', async (t) => killed_by(t, r, () => 0x1000, (c, a) => uread(c, a, 1)));
  t.test('write to read-only', async (t) => killed_by(t, r,
    () => sys_mmap(0, 4096, PROT_READ, ANON), (c, a) => uwrite(c, a, 'x')));
  t.test('write to a page made read-only', async (t) => killed_by(t, r, (c) => {
    const a = sys_mmap(0, 4096, RW, ANON);
    if (!uwrite(c, a, 'data').ok) return -1;
    return sys_mprotect(a, 4096, PROT_READ) || a;
  }, (c, a) => uwrite(c, a, 'x')));
  t.test('fetch from NX memory', async (t) => killed_by(t, r, (c) => {
    const a = sys_mmap(0, 4096, RW, ANON);
    return uwrite(c, a, '\x90\x90\xc3').ok ? a : -1;
  }, (c, a) => ufetch(c, a, 3)));
  t.test('fetch from a missing page of a non-exec VMA', async (t) => killed_by(t, r,
    () => sys_mmap(0, 4096, PROT_READ, ANON), (c, a) => ufetch(c, a, 1)));
  t.test('PROT_NONE', async (t) => killed_by(t, r,
    () => sys_mmap(0, 4096, PROT_NONE, ANON), (c, a) => uread(c, a, 1)));
  t.test('PROT_NONE over a resident page', async (t) => killed_by(t, r, (c) => {
    const a = sys_mmap(0, 4096, RW, ANON);
    if (!uwrite(c, a, 'data').ok) return -1;
    return sys_mprotect(a, 4096, PROT_NONE) || a;
  }, (c, a) => uread(c, a, 1)));
  t.test('kernel address (direct map)', async (t) => killed_by(t, r, () => PAGE_OFFSET, (c, a) => uread(c, a, 8)));
  t.test('kernel address, write', async (t) => killed_by(t, r, () => PAGE_OFFSET + 0x100000, (c, a) => uwrite(c, a, 'x')));
  t.test('non-canonical address', async (t) => killed_by(t, r, () => 2 ** 48, (c, a) => uread(c, a, 1)));
  t.test('a later page of a long read', async (t) => killed_by(t, r,
    () => sys_mmap(0, 4096, RW, ANON), (c, a) => uread(c, a, 8192)));

  t.test('the kernel and init carry on', async (t) => {
    t.ok(logLines(/^init\[\d+\]: segfault at 888000000000 error 5$/).length === 1, 'segfault line logged');
    t.ok(logLines(/^init\[\d+\]: segfault at 888000100000 error 7$/).length === 1, 'write: error code 7');
    const a = as(r.init, () => sys_mmap(0, 4096, RW | PROT_EXEC, ANON));
    t.ok(uwrite(r.init, a, '\xc3').ok);
    const f = ufetch(r.init, a, 1);
    t.ok(f.ok, 'fetch from an executable mapping works');
    t.equal(r.init.children.length, 0);
    t.same(r.console.filter((l) => /BUG|WARNING|panic/.test(l)), []);
  });
});
