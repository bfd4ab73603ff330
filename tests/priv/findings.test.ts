/**
 * The fuzz campaign's findings, each reproduced and checked: no internal
 * error, an oops where Linux oopses, nothing leaked. Plus the "also" items: host I/O
 * errors in the shell's words, machines the host cannot hold, rev-1.3 PCONFIG output,
 * what encrypt_mprotect keeps.
 */
import t from 'tap';
import { runShell } from '../../tools/shell.js';
import { bootKernel, SMALL } from '../lib/boot.js';
import { as, fork, uread, uwrite } from '../lib/task.js';
import { host_limit_error } from '../../tools/lib/hostlimits.js';
import { makeConfig, GiB, MiB } from '../../arch/x86/hw/config.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, sys_mmap } from '../../mm/mmap.js';
import { pte_offset_map } from '../../arch/x86/mm/pgtable.js';
import { __flush_tlb_local, readl, writel } from '../../arch/x86/include/asm/processor.js';
import { __va } from '../../arch/x86/include/asm/page.js';
import { pte_addr } from '../../arch/x86/include/asm/pgtable_types.js';
import { log_records } from '../../kernel/printk.js';
import { SIGKILL } from '../../kernel/signal.js';
import { find_task_by_vpid } from '../../kernel/sched.js';
import { kernel_wait4 } from '../../kernel/exit.js';
import { FakeMktme, boot as bootKeys, enc } from '../keys/helpers.js';
import { KEY_SPEC_USER_KEYRING, add_key } from '../../kernel/keys/index.js';

const Q = ['--append', 'quiet'];
/** A guard over outputs checked elsewhere: absence is the point. */
const noInternal = (tt: { notMatch(s: string, re: RegExp, m: string): void }, s: string): void => {
  tt.notMatch(s, /internal error|TypeError|at .*\.js:/, 'no internal error');
};

const memfree = (out: string): number[] => [...out.matchAll(/^MemFree: +(\d+) kB$/gm)].map((m) => Number(m[1]));

t.test('1: S3 under TME bypass without a saved key is refused; KeyIDs stay usable', async (t) => {
  const r = await runShell(['--bios', 'bypass=on', ...Q, '-c',
    'keyctl add mktme k "type=cpu algorithm=aes-xts-128" @u; mmap 4K; ' +
    'encrypt_mprotect 0x7efffffff000 4K rw 1397604227; write 0x7efffffff000 x; suspend; echo $?; fork; ' +
    'read 0x7efffffff000 1; dmesg']);
  noInternal(t, r.stderr + r.stdout);
  t.match(r.stderr, /^suspend: Operation not supported$/m);
  t.match(r.stdout, /PM: TME key is not saved for standby: MKTME cannot be restored/);
  t.notMatch(r.stdout, /PM: suspend entry/, 'the machine never slept'); // absence is the point
  t.match(r.stdout, /^3\nx\n/m, 'fork and the encrypted page still work');
  t.end();
});

t.test('2: suspend on a CPU without TME', async (t) => {
  const r = await runShell(['--cpu', 'tme=off', ...Q, '-c', 'suspend']);
  noInternal(t, r.stderr);
  t.equal(r.status, 0);
  t.end();
});

t.test('3: a corrupted user page table: oops, task killed and reaped, teardown clean', (t) => {
  const rig = bootKernel({ ...SMALL, seed: 1 });
  const child = fork(rig.init);
  const va = as(child, () => sys_mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS));
  t.ok(uwrite(child, va, 'hi').ok);
  const ptep = as(child, () => pte_offset_map(child.mm!, va));
  // overwrite the PTE with all ones (root's devmem -w over a page table) and flush the TLB
  as(child, () => { writel(ptep, 0xffffffff); writel(ptep + 4, 0xffffffff); __flush_tlb_local(); });
  const r = uread(child, va, 2);
  t.same(r, { ok: false, signal: SIGKILL }, 'reserved bits: Bad pagetable oops, SIGKILL');
  const log = log_records().map((x) => x.text);
  t.ok(log.some((l) => /Corrupted page table at address 7efffffff000/.test(l)));
  t.ok(log.some((l) => /^Bad pagetable: 000d \[#1\] SMP NOPTI$/.test(l)));
  t.ok(log.some((l) => /^BUG: Bad page map/.test(l)), 'teardown reported the bad entry instead of following it');
  t.ok(child.exit_state, 'dead');
  t.equal(child.mm, null, 'address space gone');
  t.equal(kernel_wait4(rig.init, child.pid, null), child.pid, 'reaped');
  t.equal(find_task_by_vpid(child.pid), null, 'not in ps');
  t.end();
});

t.test('3b: a corrupted pmd: the walk oopses, teardown reports and clears it, nothing raised', (t) => {
  const rig = bootKernel({ ...SMALL, seed: 2 });
  const child = fork(rig.init);
  const va = as(child, () => sys_mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS));
  t.ok(uwrite(child, va, 'hi').ok);
  // walk pgd -> pud -> pmd by hand, as root's devmem would find the entry
  let table = child.mm!.pgd;
  let pmdp = 0;
  for (const shift of [39, 30, 21]) {
    const ep = __va(table + (Math.floor(va / 2 ** shift) % 512) * 8);
    if (shift === 21) { pmdp = ep; break; }
    table = as(child, () => pte_addr({ lo: readl(ep), hi: readl(ep + 4) }));
  }
  as(child, () => { writel(pmdp, 0xffffffff); writel(pmdp + 4, 0xffffffff); __flush_tlb_local(); });
  const before = log_records().length;
  t.same(uread(child, va, 2), { ok: false, signal: SIGKILL }, 'Bad pagetable oops, SIGKILL');
  const log = log_records().slice(before).map((x) => x.text);
  t.ok(log.some((l) => /^Bad pagetable: /.test(l)), log.join('|'));
  t.ok(log.some((l) => /^pgtable: bad pmd ffff[0-9a-f]+\(ffffffffffffffff\)$/.test(l)), 'teardown cleared the bad pmd');
  t.equal(child.mm, null);
  t.equal(kernel_wait4(rig.init, child.pid, null), child.pid, 'reaped');
  t.end();
});

t.test('4: a fault on the PCONFIG structure\'s page: oops, no key left, no page leaked', async (t) => {
  const r = await runShell([...Q, '-c',
    'cat /proc/meminfo; devmem -w 0x14023f0 0000000000000000; keyctl add mktme k "type=no-encrypt" @u; ' +
    'cat /proc/keys; cat /proc/meminfo; cat /sys/kernel/mm/mktme/keyid_pages; echo alive']);
  noInternal(t, r.stderr + r.stdout);
  t.match(r.stderr, /BUG: unable to handle page fault for address: ffff88800fc00000\n.*#PF: supervisor write access in kernel mode\n.*#PF: error_code\(0x0002\) - not-present page\n.*Oops: 0002 \[#1\] SMP NOPTI\n.*CPU: 1 PID: 2 Comm: sh Not tainted 6\.8\.0-mktme #1\n.*---\[ end trace 0000000000000000 \]---\nKilled\n/);
  t.notMatch(r.stdout, /mktme +k/, 'no uninstantiated key in /proc/keys'); // absence is the point
  const [before, after] = memfree(r.stdout);
  t.equal(after, before, 'MemFree as before: the structure page and the old shell\'s pages came back');
  t.match(r.stdout, /alive/);
  t.end();
});

t.test('errno from the platform is not printed as a PCONFIG status', (t) => {
  const hw = new FakeMktme();
  hw.fail = () => -22;
  const b = bootKeys({ hw });
  t.equal(add_key(b.root, 'mktme', 'k', enc('type=no-encrypt'), KEY_SPEC_USER_KEYRING), -126);
  t.notOk(hw.log.some((l) => /Unknown programming status/.test(l)));
  t.ok(hw.log.includes('mktme: programming failed: Invalid argument'), hw.log.join('|'));
  t.end();
});

t.test('host I/O errors and machines the host cannot hold', async (t) => {
  const r = await runShell(['--nvram-file', '/tmp', '-c', 'echo hi']);
  t.equal(r.stderr, 'sh: boot: --nvram-file /tmp: Is a directory\n');
  t.equal(r.status, 1);
  const cfg = makeConfig({ packages: 8, memPerNode: 1024 * GiB, nvramSize: 64 * MiB });
  t.equal(host_limit_error(cfg, 16 * GiB),
    '8.0 TiB of memory (8 nodes x 1 TiB + 64 MiB NVRAM) needs 32.0 GiB of host memory for page metadata ' +
    '(16 bytes per 4 KiB page); this host allows at most 8 GiB (half of its 16 GiB of RAM), i.e. about 2 TiB ' +
    'of machine memory');
  t.equal(host_limit_error(makeConfig({}), 16 * GiB), null, 'the default machine fits');
  t.end();
});

t.test('pconfig under rev-1.3 PCONFIG: an out-of-range KeyID prints each package\'s status', async (t) => {
  const r = await runShell(['--cpu', 'pconfig_rev=1.3', ...Q, '-c', 'pconfig 64 no-encrypt aes-xts-128']);
  t.equal(r.stdout, 'package 0: 3 (KeyID not valid)\npackage 1: 3 (KeyID not valid)\n');
  t.equal(r.status, 1);
  t.end();
});

t.test('encrypt_mprotect with the key and protection the range has keeps its contents', async (t) => {
  const r = await runShell([...Q, '-c',
    "keyctl add mktme k 'type=cpu algorithm=aes-xts-128' @u; mmap 4K; encrypt_mprotect 0x7efffffff000 4K rw 1397604227; " +
    'write 0x7efffffff000 kept; encrypt_mprotect 0x7efffffff000 4K rw 1397604227; read 0x7efffffff000 4; ' +
    'encrypt_mprotect 0x7efffffff000 4K r 1397604227; read 0x7efffffff000 4 -x']);
  const out = r.stdout.split('\n');
  t.equal(out[2], 'kept', 'same key, same protection: nothing discarded');
  t.match(out[3], /^00007efffffff000  00 00 00 00 /, 'another protection: discarded, as README says');
  t.end();
});

