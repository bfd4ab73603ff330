/**
 * encrypt_mprotect ([PATCHv2 44/59] of the MKTME series): every error leaves the mapping unchanged;
 * success zaps the old contents and sets the VMA's KeyID so new faults use it; serial
 * -1 returns to KeyID 0; KeyID references (key, VMA, page) are released by munmap and
 * exit; mprotect keeps the KeyID in every PTE; VMAs never merge across KeyIDs.
 */
import t from 'tap';
import { bootKernel, SMALL } from '../lib/boot.js';
import { add_mktme_key, as, dec, fork, keyid_refs, revoke_key, uread, uwrite } from '../lib/task.js';
import {
  MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_EXEC, PROT_NONE, PROT_READ, PROT_WRITE, sys_mmap,
  sys_munmap,
} from '../../mm/mmap.js';
import { sys_encrypt_mprotect, sys_mprotect } from '../../mm/mprotect.js';
import { follow_pte } from '../../mm/memory.js';
import { pte_keyid, pte_pfn, pte_present } from '../../arch/x86/include/asm/pgtable_types.js';
import { page_keyid } from '../../arch/x86/include/asm/mktme.js';
import { show_maps, show_smaps } from '../../fs/proc/task_mmu.js';
import { EACCES, EBUSY, EINVAL, EKEYREVOKED, ENOKEY, ENOMEM } from '../../kernel/errno.js';
import { add_key, KEY_SPEC_SESSION_KEYRING, KEYID_AVAILABLE, KEYID_REF_KILLED, mktme_keyid_info } from '../../kernel/keys/index.js';
import { do_su } from '../../kernel/sys.js';
import { kernel_wait4, sys_exit } from '../../kernel/exit.js';
import { vma_keyid } from '../../mm/vma.js';
import type { task_struct } from '../../kernel/sched.js';

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

function keyid_at(tsk: task_struct, va: number): number {
  return vma_keyid(tsk.mm!.mmap.find((v) => v.vm_start <= va && va < v.vm_end)!);
}

t.test('errors change nothing', async (t) => {
  const r = bootKernel(SMALL);
  const init = r.init;
  const serial = add_mktme_key(init.cred, 'k1');
  const revoked = add_mktme_key(init.cred, 'k2');
  t.equal(revoke_key(init.cred, revoked), 0);
  const user_key = add_key(init.cred, 'user', 'not-mktme', new TextEncoder().encode('x'), KEY_SPEC_SESSION_KEYRING);
  t.ok(user_key > 0);
  // Layout: [anon 2 pages][hole 1 page][anon 1 page] ... and a shared page elsewhere.
  const a = as(init, () => sys_mmap(0, 4 * 4096, RW, ANON));
  t.equal(as(init, () => sys_munmap(a + 2 * 4096, 4096)), 0);
  const s = as(init, () => sys_mmap(a - 4096, 4096, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED));
  t.equal(s, a - 4096, 'a shared (non-anonymous) VMA right below');
  t.ok(uwrite(init, a, 'keep me').ok);
  t.ok(uwrite(init, a + 3 * 4096, 'me too').ok);
  const maps = show_maps(init.mm!);
  const smaps = show_smaps(init.mm!);
  const refs = keyid_refs(1);

  const user = fork(init);
  t.equal(as(user, () => do_su(1000)), 0, 'a process of uid 1000');
  t.equal(user.cred.uid, 1000);

  const cases: [string, task_struct, () => number, number][] = [
    ['unaligned start', init, () => sys_encrypt_mprotect(a + 1, 4096, RW, serial), -EINVAL],
    ['unaligned len', init, () => sys_encrypt_mprotect(a, 4095, RW, serial), -EINVAL],
    ['unknown serial', init, () => sys_encrypt_mprotect(a, 4096, RW, 123456), -ENOKEY],
    ['revoked key', init, () => sys_encrypt_mprotect(a, 4096, RW, revoked), -EKEYREVOKED],
    ['not an mktme key', init, () => sys_encrypt_mprotect(a, 4096, RW, user_key), -EINVAL],
    ['no view permission', user, () => sys_encrypt_mprotect(a, 4096, RW, serial), -EACCES],
    // The shared object is mapped by init and by its fork: its KeyID is the object's and
    // cannot change while two mappings use it (mm/shmem.ts).
    ['shared VMA mapped twice', init, () => sys_encrypt_mprotect(s, 4096, RW, serial), -EBUSY],
    ['range starting in a shared VMA', init, () => sys_encrypt_mprotect(s, 2 * 4096, RW, serial), -EBUSY],
    ['range running into a hole', init, () => sys_encrypt_mprotect(a, 4 * 4096, RW, serial), -ENOMEM],
    ['range starting in a hole', init, () => sys_encrypt_mprotect(a + 2 * 4096, 2 * 4096, RW, serial), -ENOMEM],
    ['bad prot', init, () => sys_encrypt_mprotect(a, 4096, 0x100, serial), -EINVAL],
    ['serial -1 over the shared VMA', init, () => sys_encrypt_mprotect(s, 2 * 4096, RW, -1), -EBUSY],
  ];
  for (const [what, tsk, fn, want] of cases) t.equal(as(tsk, fn), want, what);
  t.equal(show_maps(init.mm!), maps, 'maps unchanged');
  t.equal(show_smaps(init.mm!), smaps, 'smaps unchanged (no page zapped, KeyIDs as before)');
  t.equal(keyid_refs(1), refs, 'KeyID references unchanged');
  const k = uread(init, a, 7);
  t.equal(k.ok && dec(k.value), 'keep me', 'contents intact');
});

t.test('encrypting discards the contents and re-keys new faults', async (t) => {
  const { init } = bootKernel(SMALL);
  const serial = add_mktme_key(init.cred, 'k');
  const a = as(init, () => sys_mmap(0, 2 * 4096, RW, ANON));
  t.ok(uwrite(init, a, 'plain').ok);
  t.ok(uwrite(init, a + 4096, 'plain').ok);
  const old = pte_pfn(follow_pte(init.mm!, a)!);
  t.equal(keyid_refs(1), 1, 'just the key holds KeyID 1');
  t.equal(as(init, () => sys_encrypt_mprotect(a, 4096, RW, serial)), 0);
  t.equal(follow_pte(init.mm!, a), null, 'the page was zapped');
  t.equal(init.mm!.rss_anon, 1);
  t.equal(keyid_at(init, a), 1, 'the VMA has KeyID 1');
  t.equal(keyid_at(init, a + 4096), 0, 'the rest of the range kept KeyID 0');
  t.equal(init.mm!.mmap.length, 2, 'split');
  t.equal(keyid_refs(1), 2, 'key + VMA');
  const z = uread(init, a, 5);
  t.ok(z.ok && z.value.every((b) => b === 0), 'contents discarded: zeros');
  const pte = follow_pte(init.mm!, a)!;
  t.equal(pte_keyid(pte), 1, 'the new PTE carries KeyID 1');
  t.equal(page_keyid(pte_pfn(pte)), 1, 'the new page was allocated with it');
  t.equal(keyid_refs(1), 3, 'key + VMA + page');
  void old;
  t.match(show_smaps(init.mm!), /KeyID:\s+1\nVmFlags: rd wr mr mw me ac \n/, 'smaps shows the KeyID');
  t.ok(uwrite(init, a, 'secret').ok);
  // Same key and flags again: nothing to do, nothing lost.
  t.equal(as(init, () => sys_encrypt_mprotect(a, 4096, RW, serial)), 0);
  const s = uread(init, a, 6);
  t.equal(s.ok && dec(s.value), 'secret', 'no change, no zap');
  // Back to KeyID 0 with serial -1: contents discarded again, references dropped.
  t.equal(as(init, () => sys_encrypt_mprotect(a, 4096, RW, -1)), 0);
  t.equal(keyid_at(init, a), 0);
  t.equal(init.mm!.mmap.length, 1, 'merged back with its KeyID-0 neighbour');
  t.equal(keyid_refs(1), 1, 'only the key holds KeyID 1 again');
  const z2 = uread(init, a, 6);
  t.ok(z2.ok && z2.value.every((b) => b === 0));
});

t.test('KeyID references are released by munmap and by exit', async (t) => {
  const { init } = bootKernel(SMALL);
  const serial = add_mktme_key(init.cred, 'k');
  const a = as(init, () => sys_mmap(0, 4 * 4096, PROT_NONE, ANON));
  t.equal(as(init, () => sys_encrypt_mprotect(a, 4 * 4096, RW, serial)), 0);
  for (let i = 0; i < 4; i++) t.ok(uwrite(init, a + i * 4096, 'x').ok);
  t.equal(keyid_refs(1), 1 + 1 + 4, 'key + VMA + 4 pages');
  t.equal(as(init, () => sys_munmap(a + 4096, 4096)), 0);
  t.equal(keyid_refs(1), 1 + 2 + 3, 'a split VMA holds two references; one page gone');
  t.equal(as(init, () => sys_munmap(a, 4 * 4096)), 0);
  t.equal(keyid_refs(1), 1, 'munmap released everything');

  const child = fork(init);
  const b = as(child, () => sys_mmap(0, 2 * 4096, PROT_NONE, ANON));
  t.equal(as(child, () => sys_encrypt_mprotect(b, 2 * 4096, RW, serial)), 0);
  t.ok(uwrite(child, b, 'x').ok);
  t.equal(keyid_refs(1), 3);
  as(child, () => sys_exit(0));
  t.equal(keyid_refs(1), 1, 'exit released them');
  t.equal(kernel_wait4(init, child.pid, null), child.pid);
});

t.test('a revoked key keeps working until its last user goes', async (t) => {
  const { init } = bootKernel(SMALL);
  const serial = add_mktme_key(init.cred, 'k');
  const a = as(init, () => sys_mmap(0, 4096, PROT_NONE, ANON));
  t.equal(as(init, () => sys_encrypt_mprotect(a, 4096, RW, serial)), 0);
  t.ok(uwrite(init, a, 'still here').ok);
  t.equal(revoke_key(init.cred, serial), 0);
  const info = mktme_keyid_info(1);
  t.equal(typeof info !== 'number' && info.state, KEYID_REF_KILLED, 'KeyID 1 outlives its key');
  const r = uread(init, a, 10);
  t.equal(r.ok && dec(r.value), 'still here', 'the mapping works on');
  t.equal(as(init, () => sys_encrypt_mprotect(a, 4096, RW, serial)), -EKEYREVOKED, 'but cannot be used again');
  t.equal(as(init, () => sys_munmap(a, 4096)), 0);
  const after = mktme_keyid_info(1);
  t.equal(typeof after !== 'number' && after.state, KEYID_AVAILABLE, 'the last reference freed KeyID 1');
});

t.test('mprotect keeps the KeyID in every PTE', async (t) => {
  const { init } = bootKernel(SMALL);
  const serial = add_mktme_key(init.cred, 'k');
  const a = as(init, () => sys_mmap(0, 2 * 4096, PROT_NONE, ANON));
  t.equal(as(init, () => sys_encrypt_mprotect(a, 2 * 4096, RW, serial)), 0);
  t.ok(uwrite(init, a, 'page zero').ok);
  t.ok(uwrite(init, a + 4096, 'page one').ok);
  const pfn = pte_pfn(follow_pte(init.mm!, a)!);
  for (const [prot, name] of [[PROT_READ, 'r'], [PROT_NONE, 'none'], [PROT_READ | PROT_EXEC, 'rx'], [RW, 'rw']] as const) {
    t.equal(as(init, () => sys_mprotect(a, 4096, prot)), 0, `mprotect ${name}`);
    const pte = follow_pte(init.mm!, a)!;
    t.equal(pte_keyid(pte), 1, `${name}: KeyID kept in the PTE`);
    t.equal(pte_pfn(pte), pfn, `${name}: same frame`);
    t.equal(pte_present(pte), prot !== PROT_NONE);
    t.equal(keyid_at(init, a), 1, `${name}: and in the VMA`);
  }
  const r = uread(init, a, 9);
  t.equal(r.ok && dec(r.value), 'page zero', 'data survived the round trip');
  t.equal(init.mm!.mmap.length, 1, 'merged back into one VMA');
  t.equal(pte_keyid(follow_pte(init.mm!, a + 4096)!), 1);
});

t.test('VMAs never merge across KeyIDs', async (t) => {
  const { init } = bootKernel(SMALL);
  const k1 = add_mktme_key(init.cred, 'k1');
  const k2 = add_mktme_key(init.cred, 'k2');
  const a = as(init, () => sys_mmap(0, 4 * 4096, RW, ANON));
  t.equal(as(init, () => sys_encrypt_mprotect(a + 4096, 2 * 4096, RW, k1)), 0);
  t.equal(init.mm!.mmap.length, 3, 'KeyID 0 | KeyID 1 | KeyID 0');
  t.equal(as(init, () => sys_encrypt_mprotect(a + 3 * 4096, 4096, RW, k2)), 0);
  t.equal(init.mm!.mmap.length, 3, 'KeyID 2 does not merge with KeyID 1');
  t.equal(as(init, () => sys_encrypt_mprotect(a + 3 * 4096, 4096, RW, k1)), 0);
  t.equal(init.mm!.mmap.length, 2, 'the same KeyID merges');
  t.equal(as(init, () => sys_encrypt_mprotect(a, 4096, RW, k1)), 0);
  t.equal(init.mm!.mmap.length, 1, 'all KeyID 1 now: one VMA');
  t.equal(keyid_refs(1), 2, 'one VMA, one reference');
  const b = as(init, () => sys_mmap(a - 4096, 4096, RW, ANON | MAP_FIXED));
  t.equal(b, a - 4096);
  t.equal(init.mm!.mmap.length, 2, 'a new KeyID-0 mapping next to it stays separate');
  const c = as(init, () => sys_mmap(a + 4 * 4096, 4096, RW, ANON | MAP_FIXED));
  t.equal(c, a + 4 * 4096);
  t.equal(init.mm!.mmap.length, 3, 'on either side');
  t.match(show_maps(init.mm!), new RegExp(`^${b.toString(16)}-${a.toString(16)} rw-p .*\n${a.toString(16)}-${c.toString(16)} rw-p .*\n`));
});
