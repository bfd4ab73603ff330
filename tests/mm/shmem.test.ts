/**
 * Shared memory under one KeyID (mm/shmem.ts): a named shm object's KeyID is fixed on
 * the object and used by every process that maps it; encrypt_mprotect sets it only
 * through the object's one mapping; DRAM holds AES-XTS under the object's key.
 */
import t from 'tap';
import { addrTweak, xtsEncrypt } from '../../arch/x86/hw/crypto/xts.js';
import { pte_keyid, pte_pfn } from '../../arch/x86/include/asm/pgtable_types.js';
import { follow_pte } from '../../mm/memory.js';
import { MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE, sys_mmap_shm, sys_munmap } from '../../mm/mmap.js';
import { sys_encrypt_mprotect } from '../../mm/mprotect.js';
import { page_is_free } from '../../mm/page_alloc.js';
import { O_CREAT, O_EXCL, O_RDWR, shm_open, shm_unlink, shmem_truncate, type shmem_file } from '../../mm/shmem.js';
import { find_vma, vma_keyid } from '../../mm/vma.js';
import { EBUSY, EEXIST, EINVAL, ENOENT } from '../../kernel/errno.js';
import type { task_struct } from '../../kernel/sched.js';
import { bootKernel, SMALL } from '../lib/boot.js';
import { add_mktme_key, as, dec, fork, keyid_refs, uread, uwrite } from '../lib/task.js';

const KEY = '00112233445566778899aabbccddeeff';
const TWEAK = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';
const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g)!.map((b) => parseInt(b, 16)));
const RW = PROT_READ | PROT_WRITE;

function open(name: string, size: number): shmem_file {
  const f = shm_open(name, O_CREAT | O_RDWR);
  if (typeof f === 'number') throw new Error(`shm_open ${f}`);
  if (f.size < size) shmem_truncate(f, size);
  return f;
}
const map = (tsk: task_struct, f: shmem_file, len: number): number =>
  as(tsk, () => sys_mmap_shm(0, len, RW, MAP_SHARED, f, 0));
const pteOf = (tsk: task_struct, va: number) => as(tsk, () => follow_pte(tsk.mm!, va))!;

t.test('one object, one KeyID, every mapper', (t) => {
  const rig = bootKernel({ ...SMALL, seed: 5 });
  const a = rig.init;
  const serial = add_mktme_key(a.cred, 'shared3', `type=user algorithm=aes-xts-128 key=${KEY} tweak=${TWEAK}`);
  const f = open('/vmshare', 8192);
  const va = map(a, f, 8192);
  t.ok(va > 0);
  t.equal(as(a, () => sys_encrypt_mprotect(va, 8192, RW, serial)), 0, 'the only mapping may set the KeyID');
  const keyid = f.keyid;
  t.ok(keyid > 0, `the object has KeyID ${keyid}`);
  t.equal(vma_keyid(find_vma(a.mm!, va)!), keyid);

  // Another process maps it later (a second VMM): its VMA and PTEs take the object's KeyID.
  const b = fork(a);
  const vb = map(b, open('vmshare', 0), 8192);
  t.equal(vma_keyid(find_vma(b.mm!, vb)!), keyid, "a new mapper's VMA carries the object's KeyID");
  t.ok(uwrite(a, va + 100, 'written by A').ok);
  const rb = uread(b, vb + 100, 12);
  t.ok(rb.ok && dec(rb.value) === 'written by A', 'B reads what A wrote');
  t.ok(uwrite(b, vb + 4096, 'written by B').ok);
  const ra = uread(a, va + 4096, 12);
  t.ok(ra.ok && dec(ra.value) === 'written by B', 'A reads what B wrote');
  const pa = pteOf(a, va), pb = pteOf(b, vb);
  t.equal(pte_pfn(pa), pte_pfn(pb), 'the same frame');
  t.equal(pte_keyid(pa), keyid);
  t.equal(pte_keyid(pb), keyid, 'under the same KeyID in both page tables');

  // DRAM: exactly AES-XTS under the object's key at the frame's address.
  const phys = pte_pfn(pa) * 4096;
  for (const c of rig.machine.cpus) c.wbinvd();
  const line = new Uint8Array(64);
  line.set(new TextEncoder().encode('written by A'), 36);
  t.same(rig.machine.probe.read(phys + 64, 64), xtsEncrypt(hex(KEY), hex(TWEAK), addrTweak(phys + 64), line));

  // Now mapped twice: the KeyID may not change (-EBUSY), and nothing did.
  t.equal(as(a, () => sys_encrypt_mprotect(va, 8192, RW, -1)), -EBUSY);
  t.equal(f.keyid, keyid);
  const again = uread(b, vb + 100, 12);
  t.ok(again.ok && dec(again.value) === 'written by A', 'contents kept');
  t.end();
});

t.test('rules and lifetime', (t) => {
  const rig = bootKernel({ ...SMALL, seed: 6 });
  const a = rig.init;
  const serial = add_mktme_key(a.cred, 'k', 'type=cpu algorithm=aes-xts-128');
  t.equal(shm_open('/nope', O_RDWR), -ENOENT);
  t.equal(shm_open('a/b', O_CREAT), -EINVAL);
  const f = open('/obj', 16384);
  t.equal(shm_open('/obj', O_CREAT | O_EXCL), -EEXIST);
  t.equal(as(a, () => sys_mmap_shm(0, 4096, RW, MAP_PRIVATE, f, 0)), -EINVAL, 'MAP_PRIVATE of an object: no CoW here');
  const va = map(a, f, 16384);
  t.equal(as(a, () => sys_encrypt_mprotect(va, 4096, RW, serial)), -EINVAL, 'part of a shmem mapping: refused');
  t.equal(f.keyid, 0, 'nothing changed');
  t.ok(uwrite(a, va, 'old contents').ok);
  const oldpfn = pte_pfn(pteOf(a, va));
  t.equal(as(a, () => sys_encrypt_mprotect(va, 16384, RW, serial)), 0);
  t.ok(page_is_free(oldpfn), 'the KeyID-0 page was dropped (contents discarded, as the series does)');
  const r = uread(a, va, 12);
  t.ok(r.ok && r.value.every((x: number) => x === 0), 'a fresh zeroed page under the new KeyID');
  const keyid = f.keyid;
  t.ok(uwrite(a, va, 'x').ok);
  const refs = keyid_refs(keyid);
  t.equal(refs, 4, 'the key, the VMA, the object and its one page');
  const pfn = pte_pfn(pteOf(a, va));

  // Unmapped but still named: the pages and the object's KeyID reference stay.
  t.equal(as(a, () => sys_munmap(va, 16384)), 0);
  t.notOk(page_is_free(pfn), 'the object still holds its page');
  t.equal(keyid_refs(keyid), 3, "the VMA's reference went; the object's and its page's stay");
  t.equal(shm_unlink('/obj'), 0);
  t.ok(page_is_free(pfn), 'unlinked and unmapped: the page is freed');
  t.equal(keyid_refs(keyid), 1, "and the object's reference: only the key's is left");
  t.equal(shm_unlink('/obj'), -ENOENT);
  t.end();
});
