/**
 * mprotect and the MKTME series' encrypt_mprotect (Linux mm/mprotect.c with
 * [PATCHv2 44/59] and [PATCHv2 46/59] of the MKTME series, Alison Schofield's
 * encrypt_mprotect(), July 2019).
 *
 * do_mprotect_ext(start, len, prot, pkey, keyid) is the common path: keyid NO_KEY is
 * plain mprotect; a KeyID (0 included) also re-keys the range. Unlike Linux, which may
 * leave a range half changed when it meets a hole, every check (alignment, holes,
 * VM_MAY* permissions, map count, and for a KeyID that every VMA is anonymous) runs
 * before anything changes, so a failing call changes nothing.
 *
 * mprotect_fixup splits the VMA to the range, sets the new flags with
 * pgprot_modify(), which keeps the KeyID in vm_page_prot, and rewrites the PTEs with
 * pte_modify(), which keeps the frame and KeyID of every entry (_PAGE_CHG_MASK: "the
 * paddr and the keyID never occupy the same bits at the same time"). Then it merges the
 * VMA with neighbours that now match (never across KeyIDs).
 *
 * mprotect_set_encrypt DISCARDS THE CONTENTS of the range whenever the KeyID or the
 * protection changes: pages mapped with the old KeyID are zapped ("Unmap pages with old
 * KeyID if there's any") and later faults allocate zeroed pages with the new KeyID. A
 * VMA that already has the key and the protection asked for is left alone, contents
 * included (mprotect_fixup's early return). Encrypting memory does not encrypt what
 * was in it; that is the series' semantics, not a shortcut here.
 */
import { mmu_notifier_invalidate_range_start } from './mmu_notifier.js';
import { pte_modify, pgprot_keyid, type pgprot_t, PAGE_SIZE } from '../arch/x86/include/asm/pgtable_types.js';
import { ptep_get, set_pte_at, walk_pte_range } from '../arch/x86/mm/pgtable.js';
import { flush_tlb_mm_range } from '../arch/x86/mm/tlb.js';
import { pte_has_page, zap_page_range } from './memory.js';
import { PROT_EXEC, PROT_READ, PROT_WRITE, calc_vm_prot_bits } from './mmap.js';
import {
  VM_ACCOUNT, VM_EXEC, VM_NORESERVE, VM_READ, VM_SHARED, VM_WRITE, find_vma, pgprot_modify, split_vma,
  sysctl_max_map_count, vm_get_page_prot, vma_get_encrypt_ref, vma_is_anonymous, vma_keyid,
  vma_merge_neighbours, vma_next, vma_put_encrypt_ref, type mm_struct, type vm_area_struct,
} from './vma.js';
import { shmem_may_encrypt, shmem_set_encrypt } from './shmem.js';
import { current } from '../kernel/sched.js';
import { encrypt_key_lookup } from '../kernel/cred.js';
import { EACCES, EINVAL, ENOMEM } from '../kernel/errno.js';
import { IS_ERR } from '../kernel/err.js';

/** No protection key / no KeyID change (the series' NO_KEY). */
export const NO_KEY = -1;
/** PROT_SEM is accepted and ignored, as on x86. */
const PROT_SEM = 0x8;

/**
 * change_protection: rewrite the entries holding pages in [start, end) with `newprot`,
 * each keeping its frame and KeyID, then flush every CPU that may cache them.
 */
export function change_protection(vma: vm_area_struct, start: number, end: number, newprot: pgprot_t): void {
  const mm = vma.vm_mm;
  let changed = false;
  mmu_notifier_invalidate_range_start(mm, start, end);
  walk_pte_range(mm, start, end, (addr, ptep) => {
    const old = ptep_get(ptep);
    if (!pte_has_page(old)) return;
    const pte = pte_modify(old, newprot);
    if (pte.lo === old.lo && pte.hi === old.hi) return;
    set_pte_at(mm, addr, ptep, pte);
    changed = true;
  });
  if (changed) flush_tlb_mm_range(mm, start, end);
}

/**
 * mprotect_set_encrypt: zap the range (contents are lost), then move the VMA to
 * `newkeyid`, swapping its KeyID reference.
 */
function mprotect_set_encrypt(vma: vm_area_struct, newkeyid: number, start: number, end: number): void {
  zap_page_range(vma, start, end - start);
  // A shmem mapping: the object changes KeyID (mm/shmem.ts), after its one mapping's
  // PTEs are gone and flushed, so no translation reaches a page under the old KeyID.
  if (vma.vm_file) shmem_set_encrypt(vma.vm_file, newkeyid);
  if (vma_keyid(vma) === newkeyid) return;
  vma_put_encrypt_ref(vma);
  vma.vm_page_prot = pgprot_keyid(vma.vm_page_prot, newkeyid);
  vma_get_encrypt_ref(vma);
}

/**
 * mprotect_fixup: apply `newflags` (and `newkeyid` unless NO_KEY) to [start, end),
 * which lies inside `vma`. The caller checked that the splits fit the map count.
 */
function mprotect_fixup(vma: vm_area_struct, start: number, end: number, newflags: number, newkeyid: number): void {
  // Private memory turning writable is charged to the commit from now on.
  if (newflags & VM_WRITE && !(vma.vm_flags & (VM_ACCOUNT | VM_WRITE | VM_SHARED | VM_NORESERVE))) newflags |= VM_ACCOUNT;
  if (newflags === vma.vm_flags && (newkeyid === NO_KEY || newkeyid === vma_keyid(vma))) return;
  if (start > vma.vm_start) {
    if (typeof split_vma(vma, start, true) === 'number') return;
  }
  if (end < vma.vm_end) {
    if (typeof split_vma(vma, end, false) === 'number') return;
  }
  vma.vm_flags = newflags;
  vma.vm_page_prot = pgprot_modify(vma.vm_page_prot, vm_get_page_prot(newflags));
  change_protection(vma, start, end, vma.vm_page_prot);
  if (newkeyid !== NO_KEY) mprotect_set_encrypt(vma, newkeyid, start, end);
  vma_merge_neighbours(vma);
}

/** The VMAs covering [start, end) in order, or -ENOMEM if a hole interrupts them. */
function vmas_covering(mm: mm_struct, start: number, end: number): vm_area_struct[] | number {
  const out: vm_area_struct[] = [];
  let at = start;
  for (let vma = find_vma(mm, start); at < end; vma = vma_next(vma)) {
    if (!vma || vma.vm_start > at) return -ENOMEM;
    out.push(vma);
    at = vma.vm_end;
  }
  return out;
}

/**
 * mem_supports_encryption: every VMA in [start, end) must be anonymous ("If this test
 * fails on any single VMA, the entire mprotect request fails"), or, this tree's
 * extension, a shmem mapping that the range covers whole and that is its object's
 * only mapping (the KeyID is the object's: mm/shmem.ts). 0, -EINVAL or -EBUSY.
 */
function mem_supports_encryption(mm: mm_struct, start: number, end: number): number {
  for (let vma = find_vma(mm, start); vma && vma.vm_start < end; vma = vma_next(vma)) {
    if (vma_is_anonymous(vma)) continue;
    if (!vma.vm_file || vma.vm_start < start || vma.vm_end > end) return -EINVAL;
    const busy = shmem_may_encrypt(vma.vm_file);
    if (busy) return busy;
  }
  return 0;
}

/**
 * do_mprotect_ext: mprotect (keyid NO_KEY) or encrypt_mprotect (keyid >= 0) of the
 * current task's [start, start+len). Protection keys are not supported (pkey must be
 * NO_KEY). 0 or -errno; on error nothing changed.
 */
export function do_mprotect_ext(start: number, len: number, prot: number, pkey: number, keyid: number): number {
  if (!Number.isSafeInteger(start) || start < 0 || !Number.isSafeInteger(len) || len < 0) return -EINVAL;
  if (!Number.isInteger(prot) || pkey !== NO_KEY) return -EINVAL;
  if (start % PAGE_SIZE) return -EINVAL;
  if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM)) return -EINVAL;
  if (!len) return 0;
  len = Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
  const end = start + len;
  const mm = current().mm;
  if (!mm) return -ENOMEM;

  if (keyid !== NO_KEY) {
    const err = mem_supports_encryption(mm, start, end);
    if (err) return err;
  }
  const vmas = vmas_covering(mm, start, end);
  if (IS_ERR(vmas)) return vmas;
  const newflags = vmas.map((vma) => calc_vm_prot_bits(prot) | (vma.vm_flags & ~(VM_READ | VM_WRITE | VM_EXEC)));
  for (const f of newflags) {
    // Each VM_MAY* bit sits four bits above its VM_* bit.
    if ((f & ~(f >> 4)) & (VM_READ | VM_WRITE | VM_EXEC)) return -EACCES;
  }
  const splits = (start > vmas[0].vm_start ? 1 : 0) + (end < vmas[vmas.length - 1].vm_end ? 1 : 0);
  if (mm.mmap.length + splits > sysctl_max_map_count) return -ENOMEM;

  // Apply VMA by VMA; look each one up again, since fixups split and merge around it.
  let nstart = start;
  for (let i = 0; i < vmas.length; i++) {
    const vma = find_vma(mm, nstart)!;
    const tmp = Math.min(end, vma.vm_end);
    const flags = newflags[i];
    const vm_end = vma.vm_end;
    mprotect_fixup(vma, nstart, tmp, flags, keyid);
    nstart = Math.min(end, vm_end);
  }
  return 0;
}

/** mprotect(2). */
export function sys_mprotect(start: number, len: number, prot: number): number {
  return do_mprotect_ext(start, len, prot, NO_KEY, NO_KEY);
}

/**
 * encrypt_mprotect(2) ([PATCHv2 44/59]): mprotect plus moving the range to the KeyID of
 * the mktme key `serial`. Page-aligned start and len (-EINVAL); the key needs view
 * permission (-ENOKEY, -EKEYREVOKED, -EKEYEXPIRED, -EACCES from the lookup) and must be
 * an mktme key (-EINVAL); every VMA must be anonymous (-EINVAL) or a whole shmem mapping
 * that is its object's only one (-EINVAL, -EBUSY; the object takes the KeyID). This tree's extension:
 * serial -1 returns the range to KeyID 0 (no key is looked up; in Linux -1 would name
 * the thread keyring, which is never an mktme key).
 */
export function sys_encrypt_mprotect(start: number, len: number, prot: number, serial: number): number {
  if (!Number.isSafeInteger(len) || len < 0 || len % PAGE_SIZE) return -EINVAL; // MKTME restriction
  if (!Number.isInteger(serial) || serial < -(2 ** 31) || serial >= 2 ** 31) return -EINVAL;
  // An unaligned start is refused by do_mprotect_ext, after the key lookup, as in the series.
  if (serial === -1) return do_mprotect_ext(start, len, prot, NO_KEY, 0);
  const key = encrypt_key_lookup(current().cred, serial);
  if (IS_ERR(key)) return key;
  const ret = do_mprotect_ext(start, len, prot, NO_KEY, key.keyid);
  key.release();
  return ret;
}
