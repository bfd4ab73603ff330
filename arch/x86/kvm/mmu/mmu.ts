/**
 * kvm_mmu for EPT (Linux arch/x86/kvm/mmu/mmu.c and tdp_mmu.c, much reduced): the VM's
 * EPT is built on demand, one 4 KiB leaf per EPT violation, and torn down when the VMM's
 * memory goes away.
 *
 *  - kvm_tdp_page_fault: the GPA's memslot gives the host virtual address; hva_to_pfn
 *    faults the page into the VMM's mm as get_user_pages would; the leaf gets that page's
 *    physical address *with its KeyID*, `page_keyid(pfn) << mktme_keyid_shift()`, as
 *    [PATCHv2 47/59] "kvm, x86, mmu: setup MKTME keyID to spte for given PFN" did. So the
 *    VMM picks a guest's KeyID in user space (encrypt_mprotect on the anonymous memory
 *    backing guest RAM); there is no KVM ioctl for it. A GPA outside every memslot is
 *    MMIO: no EPT entry (KeyID 0 by construction), the access goes to the VMM.
 *  - KeyID of KVM's own structures: EPT table pages, the EPTP, the VMCS and the MSR
 *    bitmap all use KeyID 0, as in the series (link_shadow_page and the EPTP never carried
 *    a KeyID). The spec allows any KeyID there, but these pages are the hypervisor's own
 *    data, the article's hypervisor runs on KeyID 0, and a VM's key would protect them
 *    from no one: the host holds every key. KeyID 0 also keeps them readable by the
 *    host's KeyID-0 direct map without aliases to flush.
 *  - kvm_unmap_gfn_range + kvm_flush_remote_tlbs: the MMU notifier's zap: clear the
 *    leaves, then INVEPT (single context) on every CPU, before mm frees and flushes the
 *    pages (mm/mmu_notifier.ts: the EvictPage order).
 *
 * Entries are written through KVM's KeyID-0 direct-map alias of each table page.
 */
import {
  VMX_EPTP_AD_ENABLE_BIT, VMX_EPTP_MT_WB, VMX_EPTP_PWL_4, VMX_EPT_ACCESS_BIT, VMX_EPT_DIRTY_BIT,
  VMX_EPT_EXECUTABLE_MASK, VMX_EPT_EXTENT_CONTEXT, VMX_EPT_IPAT_BIT, VMX_EPT_MT_EPTE_SHIFT,
  VMX_EPT_READABLE_MASK, VMX_EPT_RWX_MASK, VMX_EPT_WRITABLE_MASK,
} from '../../hw/isa.js';
import { nr_cpu_ids, readl, smp_call_function_single, writel } from '../../include/asm/processor.js';
import { page_address } from '../../include/asm/page.js';
import { LEVEL_SHIFT, PAGE_SIZE, pte_pfn, pte_write } from '../../include/asm/pgtable_types.js';
import { page_keyid } from '../../include/asm/mktme.js';
import { mktme_keyid_shift } from '../../mm/mktme.js';
import { GFP_KERNEL, __GFP_ZERO, __free_pages, alloc_pages } from '../../../../mm/page_alloc.js';
import { FAULT_FLAG_WRITE, VM_FAULT_OOM, follow_pte, handle_mm_fault } from '../../../../mm/memory.js';
import { VM_WRITE, find_vma } from '../../../../mm/vma.js';
import { EFAULT, ENOMEM } from '../../../../kernel/errno.js';
import { KVM_MEM_READONLY } from '../../../../include/uapi/linux/kvm.js';
import type { kvm, kvm_memory_slot } from '../../../../include/linux/kvm_host.js';
import { __invept } from '../vmx/vmx_ops.js';
import { vmx_enabled_on } from '../vmx/vmx_enable.js';

const TWO32 = 4294967296;
/** Leaves map RAM write-back, ignoring guest PAT (KVM's vmx_get_mt_mask for RAM). */
const EPT_MT_WB = 6 << VMX_EPT_MT_EPTE_SHIFT;

/** RET_PF_* (mmu_internal.h): the fault was fixed, or the access must be emulated (MMIO). */
export const RET_PF_RETRY = 0;
export const RET_PF_EMULATE = 1;

function entry_va(table_pfn: number, index: number): number { return page_address(table_pfn) + index * 8; }

function read_entry(va: number): { lo: number; hi: number } { return { lo: readl(va), hi: readl(va + 4) }; }

/** Write the high half first: the entry becomes present with its low half. */
function write_entry(va: number, lo: number, hi: number): void {
  writel(va, 0);
  writel(va + 4, hi >>> 0);
  writel(va, lo >>> 0);
}

function entry_addr(e: { lo: number; hi: number }): number {
  return (e.hi & 0xfffff) * TWO32 + ((e.lo >>> 12) << 12 >>> 0);
}

/** kvm_mmu_init_vm: the EPT root (KeyID 0) and the EPTP: WB, 4-level walk, A/D enabled. */
export function kvm_mmu_init_vm(k: kvm): number {
  const pfn = alloc_pages(GFP_KERNEL | __GFP_ZERO, 0, 0);
  if (pfn < 0) return -ENOMEM;
  k.arch.ept_root_pfn = pfn;
  k.arch.eptp = pfn * PAGE_SIZE + (VMX_EPTP_MT_WB | VMX_EPTP_PWL_4 | VMX_EPTP_AD_ENABLE_BIT);
  k.arch.ept_pages = 1;
  return 0;
}

/** gfn_to_memslot: the slot holding guest frame `gfn`, or null. */
export function gfn_to_memslot(k: kvm, gfn: number): kvm_memory_slot | null {
  for (const s of k.memslots.values()) if (gfn >= s.base_gfn && gfn < s.base_gfn + s.npages) return s;
  return null;
}

/**
 * hva_to_pfn (virt/kvm/kvm_main.c, through get_user_pages): the page backing `hva` in
 * the VMM's mm, faulted in like a user access; -EFAULT when no VMA allows the access.
 */
export function hva_to_pfn(k: kvm, hva: number, write: boolean): number {
  const vma = find_vma(k.mm, hva);
  if (!vma || hva < vma.vm_start) return -EFAULT;
  if (write && !(vma.vm_flags & VM_WRITE)) return -EFAULT;
  let pte = follow_pte(k.mm, hva);
  if (!pte || (write && !pte_write(pte))) {
    const r = handle_mm_fault(vma, hva, write ? FAULT_FLAG_WRITE : 0);
    if (r & VM_FAULT_OOM) return -ENOMEM;
    if (r) return -EFAULT;
    pte = follow_pte(k.mm, hva);
    if (!pte) return -EFAULT;
  }
  return pte_pfn(pte);
}

/**
 * The table page for `gpa` at `level` (1..3), allocating missing levels (KeyID 0,
 * zeroed) and linking them RWX, as link_shadow_page does.
 */
function walk_alloc(k: kvm, gpa: number): number {
  let table = k.arch.ept_root_pfn;
  for (let level = 0; level < 3; level++) {
    const va = entry_va(table, Math.floor(gpa / 2 ** LEVEL_SHIFT[level]) % 512);
    const e = read_entry(va);
    if (e.lo & VMX_EPT_RWX_MASK) { table = entry_addr(e) / PAGE_SIZE; continue; }
    const pfn = alloc_pages(GFP_KERNEL | __GFP_ZERO, 0, 0);
    if (pfn < 0) return -ENOMEM;
    k.arch.ept_pages++;
    const pa = pfn * PAGE_SIZE;
    write_entry(va, (pa % TWO32) + VMX_EPT_RWX_MASK, Math.floor(pa / TWO32));
    table = pfn;
  }
  return table;
}

/** The leaf entry's VA for `gpa`, or -1 when a level is missing. */
function leaf_va(k: kvm, gpa: number): number {
  let table = k.arch.ept_root_pfn;
  for (let level = 0; level < 3; level++) {
    const e = read_entry(entry_va(table, Math.floor(gpa / 2 ** LEVEL_SHIFT[level]) % 512));
    if (!(e.lo & VMX_EPT_RWX_MASK)) return -1;
    table = entry_addr(e) / PAGE_SIZE;
  }
  return entry_va(table, Math.floor(gpa / PAGE_SIZE) % 512);
}

/** The host-physical address with the page's KeyID: what [PATCHv2 47/59] put in the spte. */
export function pfn_to_hpa_keyid(pfn: number): number {
  return pfn * PAGE_SIZE + page_keyid(pfn) * 2 ** mktme_keyid_shift();
}

/**
 * kvm_tdp_page_fault: map the page behind `gpa` for an EPT violation. RET_PF_RETRY
 * (mapped: the guest's access is retried), RET_PF_EMULATE (MMIO, or a write to a
 * read-only slot: the access goes to user space), or -errno for KVM_RUN.
 */
export function kvm_tdp_page_fault(k: kvm, gpa: number, write: boolean): number {
  const gfn = Math.floor(gpa / PAGE_SIZE);
  const slot = gfn_to_memslot(k, gfn);
  if (!slot) return RET_PF_EMULATE;
  const readonly = (slot.flags & KVM_MEM_READONLY) !== 0;
  if (write && readonly) return RET_PF_EMULATE;
  const hva = slot.userspace_addr + (gfn - slot.base_gfn) * PAGE_SIZE;
  // Map the page with the access the VMM's mapping allows (hva_to_pfn's "writable"), so a
  // read fault on RAM is not followed by a write fault; a write the VMA forbids fails.
  const vma = find_vma(k.mm, hva);
  if (!vma || hva < vma.vm_start) return -EFAULT;
  const writable = !readonly && (vma.vm_flags & VM_WRITE) !== 0;
  if (write && !writable) return -EFAULT;
  const pfn = hva_to_pfn(k, hva, writable);
  if (pfn < 0) return pfn;
  const table = walk_alloc(k, gpa);
  if (table < 0) return table;
  const hpa = pfn_to_hpa_keyid(pfn);
  const perms = VMX_EPT_READABLE_MASK | VMX_EPT_EXECUTABLE_MASK | (writable ? VMX_EPT_WRITABLE_MASK : 0);
  write_entry(entry_va(table, gfn % 512), (hpa % TWO32) + perms + EPT_MT_WB + VMX_EPT_IPAT_BIT, Math.floor(hpa / TWO32));
  k.stat.ept_faults++;
  return RET_PF_RETRY;
}

/** Clear the leaves of [start_gfn, end_gfn) below `table` at `level`; returns how many. */
function zap_range(table: number, level: number, base: number, start: number, end: number): number {
  let n = 0;
  const span = 2 ** (LEVEL_SHIFT[level] - 12); // gfns per entry
  const first = Math.max(0, Math.floor((start - base) / span));
  const last = Math.min(511, Math.floor((end - 1 - base) / span));
  for (let i = first; i <= last; i++) {
    const va = entry_va(table, i);
    const e = read_entry(va);
    if (!(e.lo & VMX_EPT_RWX_MASK)) continue;
    if (level === 3) { write_entry(va, 0, 0); n++; continue; }
    n += zap_range(entry_addr(e) / PAGE_SIZE, level + 1, base + i * span, start, end);
  }
  return n;
}

/** kvm_mmu_zap_all: every leaf (the VMM's mm is going away). */
export function kvm_mmu_zap_all(k: kvm): void {
  if (k.arch.ept_root_pfn >= 0 && kvm_unmap_gfn_range(k, 0, 2 ** 36)) kvm_flush_remote_tlbs(k);
}

/** kvm_unmap_gfn_range: zap the leaves of [start, end); true if any was present. */
export function kvm_unmap_gfn_range(k: kvm, start_gfn: number, end_gfn: number): boolean {
  if (start_gfn >= end_gfn) return false;
  const n = zap_range(k.arch.ept_root_pfn, 0, 0, start_gfn, end_gfn);
  k.stat.zapped += n;
  return n > 0;
}

/** kvm_flush_remote_tlbs: INVEPT single-context for this VM on every CPU in VMX operation. */
export function kvm_flush_remote_tlbs(k: kvm): void {
  k.stat.remote_tlb_flush++;
  for (let cpu = 0; cpu < nr_cpu_ids(); cpu++) {
    if (vmx_enabled_on(cpu)) smp_call_function_single(cpu, () => __invept(VMX_EPT_EXTENT_CONTEXT, k.arch.eptp));
  }
}

function free_tables(table: number, level: number): void {
  if (level < 3) {
    for (let i = 0; i < 512; i++) {
      const e = read_entry(entry_va(table, i));
      if (e.lo & VMX_EPT_RWX_MASK) free_tables(entry_addr(e) / PAGE_SIZE, level + 1);
    }
  }
  __free_pages(table, 0);
}

/** kvm_mmu_uninit_vm: zap everything, flush, free the tables. */
export function kvm_mmu_uninit_vm(k: kvm): void {
  if (k.arch.ept_root_pfn < 0) return;
  kvm_flush_remote_tlbs(k);
  free_tables(k.arch.ept_root_pfn, 0);
  k.arch.ept_root_pfn = -1;
  k.arch.ept_pages = 0;
}

/** The leaf for `gpa` as KVM_GET_EPT_ENTRY reports it. */
export function kvm_mmu_get_leaf(k: kvm, gpa: number): { present: boolean; hpa: number; keyid: number; flags: number } {
  const va = leaf_va(k, gpa);
  const e = va < 0 ? { lo: 0, hi: 0 } : read_entry(va);
  if (!(e.lo & VMX_EPT_RWX_MASK)) return { present: false, hpa: 0, keyid: 0, flags: 0 };
  const addr = entry_addr(e);
  const shift = mktme_keyid_shift();
  const keyid = shift > 0 ? Math.floor(addr / 2 ** shift) : 0;
  return {
    present: true, hpa: shift > 0 ? addr % 2 ** shift : addr, keyid,
    flags: e.lo & (VMX_EPT_RWX_MASK | VMX_EPT_ACCESS_BIT | VMX_EPT_DIRTY_BIT),
  };
}

/** Point the leaf for `gpa` at `hpa` under `keyid` (root's KVM_SET_EPT_ENTRY). */
export function kvm_mmu_set_leaf(k: kvm, gpa: number, hpa: number, keyid: number, flags: number): number {
  const table = walk_alloc(k, gpa);
  if (table < 0) return table;
  const addr = hpa - (hpa % PAGE_SIZE) + keyid * 2 ** mktme_keyid_shift();
  write_entry(entry_va(table, Math.floor(gpa / PAGE_SIZE) % 512), (addr % TWO32) + (flags & VMX_EPT_RWX_MASK) + EPT_MT_WB + VMX_EPT_IPAT_BIT,
    Math.floor(addr / TWO32));
  kvm_flush_remote_tlbs(k);
  return 0;
}
