/**
 * /proc/PID/maps and /proc/PID/smaps (Linux fs/proc/task_mmu.c).
 *
 * maps: one line per VMA in Linux's format
 *   "%08lx-%08lx %c%c%c%c %08llx %02x:%02x %lu " then, for a named mapping, padding to
 *   column 73 and the name. Private anonymous mappings have no name, offset 0, device
 *   00:00 and inode 0 (so their line ends with the space). Shared anonymous mappings
 *   are shmem files: device 00:01, their inode, offset vm_pgoff << 12, and the name
 *   "/dev/zero (deleted)", as Linux shows them; a POSIX shm object is "/dev/shm/NAME".
 *
 * smaps: the maps line, then Linux 6.x's counters for the VMA's pages (walking its
 * PTEs: present and PROT_NONE entries count; no KSM, THP or swap here, so those are 0),
 * then this tree's extension, a `KeyID:` line with the VMA's KeyID (from vm_page_prot),
 * before VmFlags.
 */
import { pte_dirty, pte_pfn, pte_young, type pte_t, PAGE_SIZE } from '../../arch/x86/include/asm/pgtable_types.js';
import { ptep_get, walk_pte_range } from '../../arch/x86/mm/pgtable.js';
import { follow_pte, pte_has_page } from '../../mm/memory.js';
import { page_count } from '../../mm/page_alloc.js';
import {
  VM_ACCOUNT, VM_EXEC, VM_MAYEXEC, VM_MAYREAD, VM_MAYSHARE, VM_MAYWRITE, VM_NORESERVE, VM_READ,
  VM_SHARED, VM_WRITE, vma_keyid, type mm_struct, type vm_area_struct,
} from '../../mm/vma.js';
import type { cred } from '../../kernel/cred.js';
import { CAP_SYS_ADMIN, security_capable } from '../../kernel/capability.js';

/** Width Linux pads the maps prefix to before a name: 25 + sizeof(void *) * 6 - 1. */
const MAPS_PAD = 25 + 8 * 6 - 1;

function hex8(n: number): string { return n.toString(16).padStart(8, '0'); }

/** show_vma_header_prefix + the name: one /proc/PID/maps line. */
export function show_map_vma(vma: vm_area_struct): string {
  const f = vma.vm_flags;
  const file = vma.vm_file;
  const pgoff = file ? vma.vm_pgoff * PAGE_SIZE : 0;
  const dev = file ? '00:01' : '00:00';
  const ino = file ? file.ino : 0;
  let line = `${hex8(vma.vm_start)}-${hex8(vma.vm_end)} ` +
    `${f & VM_READ ? 'r' : '-'}${f & VM_WRITE ? 'w' : '-'}${f & VM_EXEC ? 'x' : '-'}${f & VM_MAYSHARE ? 's' : 'p'} ` +
    `${hex8(pgoff)} ${dev} ${ino} `;
  if (file) {
    const name = file.name === null ? '/dev/zero' : `/dev/shm/${file.name}`;
    line = line.padEnd(MAPS_PAD) + ` ${name}${file.name !== null && file.linked ? '' : ' (deleted)'}`;
  }
  return line + '\n';
}

/** /proc/PID/maps for an mm (empty for a task without one). */
export function show_maps(mm: mm_struct | null): string {
  return mm ? mm.mmap.map(show_map_vma).join('') : '';
}

interface mem_size_stats {
  resident: number;
  shared_clean: number;
  shared_dirty: number;
  private_clean: number;
  private_dirty: number;
  referenced: number;
  anonymous: number;
  /** Proportional set size in bytes, fractional until printed; and of dirty pages. */
  pss: number;
  pss_dirty: number;
}

/** smaps_pte_entry for every entry of the VMA. */
function smaps_account(vma: vm_area_struct): mem_size_stats {
  const mss: mem_size_stats = {
    resident: 0, shared_clean: 0, shared_dirty: 0, private_clean: 0, private_dirty: 0,
    referenced: 0, anonymous: 0, pss: 0, pss_dirty: 0,
  };
  walk_pte_range(vma.vm_mm, vma.vm_start, vma.vm_end, (_addr, ptep) => {
    const pte = ptep_get(ptep);
    if (!pte_has_page(pte)) return;
    const pfn = pte_pfn(pte);
    // Mappings of the page: a shmem page's count also holds the object's reference.
    const mapcount = Math.max(1, vma.vm_file ? page_count(pfn) - 1 : page_count(pfn));
    const dirty = pte_dirty(pte);
    mss.resident += PAGE_SIZE;
    if (pte_young(pte)) mss.referenced += PAGE_SIZE;
    if (!vma.vm_file) mss.anonymous += PAGE_SIZE;
    if (mapcount >= 2) {
      if (dirty) mss.shared_dirty += PAGE_SIZE;
      else mss.shared_clean += PAGE_SIZE;
    } else if (dirty) {
      mss.private_dirty += PAGE_SIZE;
    } else {
      mss.private_clean += PAGE_SIZE;
    }
    mss.pss += PAGE_SIZE / mapcount;
    if (dirty) mss.pss_dirty += PAGE_SIZE / mapcount;
  });
  return mss;
}

/** SEQ_PUT_DEC: the name padded to 16 columns, the value in 8, then " kB". */
function kb(name: string, bytes: number): string {
  return `${name.padEnd(16)}${String(Math.floor(bytes / 1024)).padStart(8)} kB\n`;
}

/** show_smap_vma_flags: two-letter mnemonics. */
function vma_flags(vma: vm_area_struct): string {
  const names: [number, string][] = [
    [VM_READ, 'rd'], [VM_WRITE, 'wr'], [VM_EXEC, 'ex'], [VM_SHARED, 'sh'],
    [VM_MAYREAD, 'mr'], [VM_MAYWRITE, 'mw'], [VM_MAYEXEC, 'me'], [VM_MAYSHARE, 'ms'],
    [VM_ACCOUNT, 'ac'], [VM_NORESERVE, 'nr'],
  ];
  return names.filter(([bit]) => vma.vm_flags & bit).map(([, n]) => n + ' ').join('');
}

/** One VMA's /proc/PID/smaps block. */
export function show_smap(vma: vm_area_struct): string {
  const mss = smaps_account(vma);
  return show_map_vma(vma) +
    kb('Size:', vma.vm_end - vma.vm_start) +
    kb('KernelPageSize:', PAGE_SIZE) +
    kb('MMUPageSize:', PAGE_SIZE) +
    kb('Rss:', mss.resident) +
    kb('Pss:', mss.pss) +
    kb('Pss_Dirty:', mss.pss_dirty) +
    kb('Shared_Clean:', mss.shared_clean) +
    kb('Shared_Dirty:', mss.shared_dirty) +
    kb('Private_Clean:', mss.private_clean) +
    kb('Private_Dirty:', mss.private_dirty) +
    kb('Referenced:', mss.referenced) +
    kb('Anonymous:', mss.anonymous) +
    kb('KSM:', 0) +
    kb('LazyFree:', 0) +
    kb('AnonHugePages:', 0) +
    kb('ShmemPmdMapped:', 0) +
    kb('FilePmdMapped:', 0) +
    kb('Shared_Hugetlb:', 0) +
    kb('Private_Hugetlb:', 0) +
    kb('Swap:', 0) +
    kb('SwapPss:', 0) +
    kb('Locked:', 0) +
    `THPeligible:    ${String(0).padStart(8)}\n` +
    `${'KeyID:'.padEnd(16)}${String(vma_keyid(vma)).padStart(8)}\n` +
    `VmFlags: ${vma_flags(vma)}\n`;
}

/** /proc/PID/smaps for an mm. */
export function show_smaps(mm: mm_struct | null): string {
  return mm ? mm.mmap.map(show_smap).join('') : '';
}

/** One page of a pagemap read: its address and entry (null: nothing mapped). */
export interface pagemap_entry { addr: number; pte: pte_t | null }

/**
 * pagemap_read: the entries of [start, end) of `mm`, page by page. Frame numbers (and
 * the KeyID, which is part of the physical address) are only for CAP_SYS_ADMIN: for
 * anyone else they read as zero while the flags stay, as Linux does since 4.2
 * (pagemap_open: pm->show_pfn = file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN)).
 */
export function pagemap_read(reader: cred, mm: mm_struct, start: number, end: number): pagemap_entry[] | number {
  const show_pfn = security_capable(reader, CAP_SYS_ADMIN);
  const out: pagemap_entry[] = [];
  for (let addr = start - (start % PAGE_SIZE); addr < end; addr += PAGE_SIZE) {
    const pte = follow_pte(mm, addr);
    // keep the low flag bits and the high protection/NX bits, drop address and KeyID
    out.push({ addr, pte: pte && !show_pfn ? { lo: pte.lo & 0xfff, hi: pte.hi & 0xfff00000 } : pte });
  }
  return out;
}
