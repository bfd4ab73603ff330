/**
 * /proc/PID/{status,maps,smaps}: Linux's formats, per-VMA KeyID in smaps, sharing
 * counted right after fork, zombies, and vanished PIDs.
 */
import t from 'tap';
import { bootKernel, SMALL } from '../lib/boot.js';
import { add_mktme_key, as, fork, uwrite } from '../lib/task.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_NONE, PROT_READ, PROT_WRITE, sys_mmap } from '../../mm/mmap.js';
import { sys_encrypt_mprotect } from '../../mm/mprotect.js';
import { vfs_read, vfs_readdir } from '../../fs/proc/generic.js';
import { do_su } from '../../kernel/sys.js';
import { sys_exit } from '../../kernel/exit.js';
import { ENOENT } from '../../kernel/errno.js';

const RW = PROT_READ | PROT_WRITE;

t.test('status', async (t) => {
  const { init } = bootKernel(SMALL);
  const a = as(init, () => sys_mmap(0, 8 * 4096, RW, MAP_PRIVATE | MAP_ANONYMOUS));
  t.ok(uwrite(init, a, 'x').ok);
  t.ok(uwrite(init, a + 4096, 'x').ok);
  const s = vfs_read('/proc/1/status') as string;
  t.match(s, /^Name:\tinit\nUmask:\t0022\nState:\tR \(running\)\nTgid:\t1\nNgid:\t0\nPid:\t1\nPPid:\t0\nTracerPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n/);
  t.match(s, /\nVmSize:\t      32 kB\n/);
  t.match(s, /\nVmRSS:\t       8 kB\nRssAnon:\t       8 kB\nRssFile:\t       0 kB\nRssShmem:\t       0 kB\n/);
  t.match(s, /\nVmPTE:\t      16 kB\n/, 'pgd, PDPT, PD and PT');

  const child = fork(init);
  t.equal(as(child, () => do_su(1000)), 0);
  const c = vfs_read(`/proc/${child.pid}/status`) as string;
  t.match(c, new RegExp(`^Name:\\tsh\\n[^]*\\nPid:\\t${child.pid}\\nPPid:\\t1\\n[^]*\\nUid:\\t1000\\t1000\\t1000\\t1000\\nGid:\\t1000\\t1000\\t1000\\t1000\\n`));
  t.match(c, /\nVmRSS:\t       8 kB\n/, 'the copied pages');
  t.ok((vfs_readdir('/proc') as string[]).includes(String(child.pid)));
  as(child, () => sys_exit(0));
  const z = vfs_read(`/proc/${child.pid}/status`) as string;
  t.match(z, /\nState:\tZ \(zombie\)\n/);
  t.notMatch(z, /VmRSS/, 'no memory lines for a zombie'); // absence is the point
  t.equal(vfs_read(`/proc/${child.pid}/maps`), '');
  t.equal(vfs_read('/proc/4242/status'), -ENOENT);
  t.equal(vfs_read('/proc/1/nonesuch'), -ENOENT);
});

t.test('maps and smaps', async (t) => {
  const { init } = bootKernel(SMALL);
  const serial = add_mktme_key(init.cred, 'k');
  const a = as(init, () => sys_mmap(0, 2 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS));
  t.equal(as(init, () => sys_encrypt_mprotect(a, 4096, RW, serial)), 0);
  const s = as(init, () => sys_mmap(0, 4096, RW, MAP_SHARED | MAP_ANONYMOUS));
  t.ok(uwrite(init, a, 'secret').ok);
  t.ok(uwrite(init, s, 'shared').ok);
  fork(init);
  const hex = (n: number): string => n.toString(16);
  t.equal(vfs_read('/proc/1/maps'),
    `${hex(s)}-${hex(s + 4096)} rw-s 00000000 00:01 1`.padEnd(72) + ' /dev/zero (deleted)\n' +
    `${hex(a)}-${hex(a + 4096)} rw-p 00000000 00:00 0 \n` +
    `${hex(a + 4096)}-${hex(a + 8192)} ---p 00000000 00:00 0 \n`);
  const sm = (vfs_read('/proc/1/smaps') as string).split(/(?=^[0-9a-f]+-)/m);
  t.equal(sm.length, 3);
  t.match(sm[0], /\nRss:\s+4 kB\nPss:\s+2 kB\nPss_Dirty:\s+2 kB\nShared_Clean:\s+0 kB\nShared_Dirty:\s+4 kB\nPrivate_Clean:\s+0 kB\nPrivate_Dirty:\s+0 kB\nReferenced:\s+4 kB\nAnonymous:\s+0 kB\n/,
    'shared page, mapped twice after fork');
  t.match(sm[0], /\nKeyID:\s+0\nVmFlags: rd wr sh mr mw me ms \n$/);
  t.match(sm[1], /^[0-9a-f-]+ rw-p 00000000 00:00 0 \nSize:\s+4 kB\nKernelPageSize:\s+4 kB\nMMUPageSize:\s+4 kB\nRss:\s+4 kB\nPss:\s+4 kB\n/);
  t.match(sm[1], /\nPrivate_Dirty:\s+4 kB\n[^]*\nAnonymous:\s+4 kB\n/);
  t.match(sm[1], /\nTHPeligible:           0\nKeyID:                 1\nVmFlags: rd wr mr mw me ac \n$/, 'the KeyID line');
  t.match(sm[2], /\nRss:\s+0 kB\n[^]*\nKeyID:\s+0\nVmFlags: mr mw me \n$/);
});
