/**
 * The Intel IOMMU driver (Linux drivers/iommu/intel/iommu.c), legacy mode, with the
 * MKTME series' DMA-remapping support ([PATCHv2 48/59] "iommu/vt-d: Support MKTME in
 * DMA remapping", Jacob Pan): every second-level entry carries the KeyID of the page
 * it points to, set by set_pte_mktme_keyid() in pfn_to_dma_pte() for non-leaf entries
 * (the KeyID of the page-table page, 0 here) and in __domain_mapping() for leaves (the
 * data page's KeyID), and dma_pte_addr() strips it again.
 *
 *   init_dmars:        root table per unit, SRTP, global context/IOTLB invalidation,
 *                      translation on (register-based invalidation: no QI on this unit)
 *   domains:           one per device (its IOMMU group's default domain): DMA
 *                      (translated, 4-level tables, IOVAs below the device's mask) or
 *                      identity (context TT = pass-through, with iommu=pt)
 *   map/unmap:         4 KiB leaves, R/W from the DMA direction; unmap clears the leaves
 *                      and invalidates the IOTLB page-selectively before the IOVA is
 *                      reused (strict mode), so a page can be freed (and its cache lines
 *                      flushed by free_encrypted_page) only after no device can reach it:
 *                      the spec's EvictPage order (unmap, invalidate the IOTLB, flush).
 *
 * Page tables are ordinary KeyID-0 kernel pages, written through the direct map; the
 * unit's walks are coherent (ECAP.C), so no clflush is needed after a store.
 */
import { __va } from '../../../arch/x86/include/asm/page.js';
import { mktme_keyid_shift } from '../../../arch/x86/mm/mktme.js';
import { page_keyid } from '../../../arch/x86/include/asm/mktme.js';
import { readl, writel } from '../../../arch/x86/include/asm/processor.js';
import { __setup } from '../../../kernel/params.js';
import { pr_info, pr_warn } from '../../../kernel/printk.js';
import { GFP_KERNEL, __GFP_ZERO, alloc_pages } from '../../../mm/page_alloc.js';
import type { device, dma_map_ops } from '../../base/core.js';
import { PCI_DEVID, type pci_dev } from '../../pci/pci.js';
import { alloc_iova, free_iova, init_iova_domain, iova_size, type iova_domain } from '../iova.js';
import {
  DMA_GCMD_SRTP, DMA_GCMD_TE, DMA_GSTS_RTPS, DMA_GSTS_TES, DMAR_CCMD_REG, DMAR_GCMD_REG, DMAR_GSTS_REG,
  DMAR_RTADDR_REG, cap_max_amask_val, cap_pgsel_inv, dmar_readl, dmar_readq, dmar_reset, dmar_table_init, dmar_units,
  dmar_writel, dmar_writeq, ecap_iotlb_offset, ecap_pass_through, type intel_iommu,
} from './dmar.js';
import { register_syscore_ops } from '../../base/syscore.js';

const PAGE = 4096;
const TWO32 = 2 ** 32;
export const DMA_PTE_READ = 1, DMA_PTE_WRITE = 2;
const CONTEXT_TT_MULTI_LEVEL = 0, CONTEXT_TT_PASS_THROUGH = 2;
const AGAW_48 = 2;
/** DMA directions (include/linux/dma-direction.h). */
const DMA_BIDIRECTIONAL = 0, DMA_TO_DEVICE = 1, DMA_FROM_DEVICE = 2;

// --- parameters -------------------------------------------------------------------------

/** CONFIG_INTEL_IOMMU_DEFAULT_ON=y. */
let dmar_disabled = false;
/** intel_iommu=on|off (intel_iommu_setup). */
__setup('intel_iommu', (val) => {
  for (const opt of val.split(',')) {
    if (opt === 'on') { dmar_disabled = false; pr_info('DMAR: IOMMU enabled'); }
    else if (opt === 'off') { dmar_disabled = true; pr_info('DMAR: IOMMU disabled'); }
    else if (opt !== '') pr_info(`DMAR: Unknown option - '${opt}'`);
  }
  return 1;
}, () => { dmar_disabled = false; });

// --- state of this boot -------------------------------------------------------------------

export interface dmar_domain {
  did: number;
  /** 'DMA': translated; 'identity': pass-through context. */
  type: 'DMA' | 'identity';
  /** Physical address of the top-level table (KeyID bits included). */
  pgd: number;
  iovad: iova_domain;
  iommu: intel_iommu;
  /** Leaves currently mapped (pages), for tests and sysfs. */
  mapped: number;
  /** Last-level table of each 2 MiB of IOVA space, once allocated: the walk's result
   *  remembered (tables live as long as the domain), so map and unmap do not re-read
   *  three levels of entries for every page. */
  pt_cache: Map<number, number>;
}

interface unit_state { root: number; context: Map<number, number> }

let intel_iommu_enabled = false;
let state = new Map<intel_iommu, unit_state>();
let next_did = 1;
let domains = new Map<device, dmar_domain>();

export function intel_iommu_active(): boolean { return intel_iommu_enabled; }
export function device_domain(dev: device): dmar_domain | null { return domains.get(dev) ?? null; }

// --- entries ------------------------------------------------------------------------------

interface dma_pte { lo: number; hi: number }

function pte_read(pa: number): dma_pte { const v = __va(pa); return { lo: readl(v) >>> 0, hi: readl(v + 4) >>> 0 }; }
function pte_write(pa: number, e: dma_pte): void { const v = __va(pa); writel(v + 4, e.hi); writel(v, e.lo); }
function pte_clear(pa: number): void { const v = __va(pa); writel(v, 0); writel(v + 4, 0); }

function mk(addr: number, flags: number): dma_pte {
  const hi = Math.floor(addr / TWO32);
  return { lo: ((addr - hi * TWO32) | flags) >>> 0, hi: hi >>> 0 };
}

/** dma_pte_addr: the address bits with the KeyID stripped (PATCHv2 48/59). */
export function dma_pte_addr(e: dma_pte): number {
  const full = (e.hi & 0xfffff) * TWO32 + (e.lo >>> 12) * PAGE;
  const shift = mktme_keyid_shift();
  return shift ? full % 2 ** shift : full;
}

/** The KeyID bits of an entry (0 without MKTME). */
export function dma_pte_keyid(e: dma_pte): number {
  const shift = mktme_keyid_shift();
  return shift ? Math.floor(((e.hi & 0xfffff) * TWO32 + (e.lo >>> 12) * PAGE) / 2 ** shift) : 0;
}

/** set_pte_mktme_keyid: put the KeyID of `phys_pfn`'s page into an address. */
export function set_pte_mktme_keyid(phys_pfn: number, addr: number): number {
  const shift = mktme_keyid_shift();
  if (!shift) return addr;
  return addr % 2 ** shift + page_keyid(phys_pfn) * 2 ** shift;
}

function alloc_pgtable_page(): number {
  const pfn = alloc_pages(GFP_KERNEL | __GFP_ZERO, 0);
  return pfn < 0 ? -1 : pfn * PAGE;
}

/** pfn_to_dma_pte: the leaf slot for `iov_pfn`, allocating tables (null: no memory). */
function pfn_to_dma_pte(d: dmar_domain, iov_pfn: number): number | null {
  const cached = d.pt_cache.get(Math.floor(iov_pfn / 512));
  if (cached !== undefined) return cached + (iov_pfn % 512) * 8;
  let table = d.pgd;
  for (let level = 4; level > 1; level--) {
    const slot = table + (Math.floor(iov_pfn / 2 ** (9 * (level - 1))) % 512) * 8;
    const e = pte_read(slot);
    if (e.lo & (DMA_PTE_READ | DMA_PTE_WRITE)) { table = dma_pte_addr(e); continue; }
    const next = alloc_pgtable_page();
    if (next < 0) return null;
    // Non-leaf: the table page's own KeyID (always 0 here), R and W so leaves decide.
    pte_write(slot, mk(set_pte_mktme_keyid(next / PAGE, next), DMA_PTE_READ | DMA_PTE_WRITE));
    table = next;
  }
  d.pt_cache.set(Math.floor(iov_pfn / 512), table);
  return table + (iov_pfn % 512) * 8;
}

/** The leaf slot for `iov_pfn` without allocating (null: no table). */
function dma_pte_lookup(d: dmar_domain, iov_pfn: number): number | null {
  const cached = d.pt_cache.get(Math.floor(iov_pfn / 512));
  if (cached !== undefined) return cached + (iov_pfn % 512) * 8;
  let table = d.pgd;
  for (let level = 4; level > 1; level--) {
    const e = pte_read(table + (Math.floor(iov_pfn / 2 ** (9 * (level - 1))) % 512) * 8);
    if (!(e.lo & (DMA_PTE_READ | DMA_PTE_WRITE))) return null;
    table = dma_pte_addr(e);
  }
  return table + (iov_pfn % 512) * 8;
}

/** Every entry on the way to `iova`'s leaf, top level first (for tests and debugging). */
export function domain_walk(d: dmar_domain, iova: number): dma_pte[] {
  const out: dma_pte[] = [];
  let table = d.pgd;
  const iov_pfn = Math.floor(iova / PAGE);
  for (let level = 4; level >= 1; level--) {
    const e = pte_read(table + (Math.floor(iov_pfn / 2 ** (9 * (level - 1))) % 512) * 8);
    out.push(e);
    if (!(e.lo & (DMA_PTE_READ | DMA_PTE_WRITE))) break;
    table = dma_pte_addr(e);
  }
  return out;
}

// --- invalidation -------------------------------------------------------------------------

/** __iommu_flush_context: granularity 1 global, 2 domain, 3 device. */
function iommu_flush_context(iommu: intel_iommu, did: number, sid: number, type: number): void {
  const v = (1n << 63n) | (BigInt(type) << 61n) | (BigInt(sid) << 16n) | BigInt(did);
  dmar_writeq(iommu, DMAR_CCMD_REG, v);
  while (dmar_readq(iommu, DMAR_CCMD_REG) & (1n << 63n)) { /* ICC clears when done */ }
}

/** __iommu_flush_iotlb: 1 global, 2 domain, 3 page-selective (addr, am). */
function iommu_flush_iotlb(iommu: intel_iommu, did: number, addr: number, am: number, type: number): void {
  const off = ecap_iotlb_offset(iommu.ecap);
  if (type === 3) dmar_writeq(iommu, off, BigInt(addr) | BigInt(am));
  const v = (1n << 63n) | (BigInt(type) << 60n) | (1n << 49n) | (1n << 48n) | (BigInt(did) << 32n);
  dmar_writeq(iommu, off + 8, v);
  while (dmar_readq(iommu, off + 8) & (1n << 63n)) { /* IVT clears when done */ }
}

/** iommu_flush_iotlb_psi: page-selective when supported and the mask fits, else domain. */
export function iommu_flush_iotlb_psi(iommu: intel_iommu, did: number, pfn: number, pages: number): void {
  let am = 0;
  while (2 ** am < pages) am++;
  if (!cap_pgsel_inv(iommu.cap) || am > cap_max_amask_val(iommu.cap)) { iommu_flush_iotlb(iommu, did, 0, 0, 2); return; }
  const base = Math.floor(pfn / 2 ** am) * 2 ** am;
  iommu_flush_iotlb(iommu, did, base * PAGE, am, 3);
}

// --- bring-up -------------------------------------------------------------------------------

function iommu_set_root_entry(iommu: intel_iommu, root: number): void {
  dmar_writeq(iommu, DMAR_RTADDR_REG, BigInt(root));
  dmar_writel(iommu, DMAR_GCMD_REG, iommu.gcmd | DMA_GCMD_SRTP);
  while (!(dmar_readl(iommu, DMAR_GSTS_REG) & DMA_GSTS_RTPS)) { /* wait */ }
}

function iommu_enable_translation(iommu: intel_iommu): void {
  iommu.gcmd = (iommu.gcmd | DMA_GCMD_TE) >>> 0;
  dmar_writel(iommu, DMAR_GCMD_REG, iommu.gcmd);
  while (!(dmar_readl(iommu, DMAR_GSTS_REG) & DMA_GSTS_TES)) { /* wait */ }
}

/** intel_iommu_init: 0 with translation on, -ENODEV when off or absent. */
export function intel_iommu_init(): number {
  intel_iommu_enabled = false;
  state = new Map();
  domains = new Map();
  next_did = 1;
  dmar_reset(); // no unit of an earlier boot survives, even with intel_iommu=off
  if (dmar_disabled) return -19;
  if (dmar_table_init() <= 0) return -19;
  for (const iommu of dmar_units()) {
    const root = alloc_pgtable_page();
    if (root < 0) { pr_warn(`DMAR: ${iommu.name}: no memory for the root table`); return -12; }
    state.set(iommu, { root, context: new Map() });
    pr_info(`DMAR: ${iommu.name}: Using Register based invalidation`);
    iommu_set_root_entry(iommu, set_pte_mktme_keyid(root / PAGE, root));
    iommu_flush_context(iommu, 0, 0, 1);
    iommu_flush_iotlb(iommu, 0, 0, 0, 1);
    iommu_enable_translation(iommu);
  }
  intel_iommu_enabled = true;
  register_syscore_ops(iommu_syscore_ops);
  pr_info('DMAR: Intel(R) Virtualization Technology for Directed I/O');
  return 0;
}

/**
 * iommu_resume (Linux drivers/iommu/intel/iommu.c, iommu_syscore_ops): after S3 each
 * unit has lost its root-table pointer and translation enable; the tables themselves
 * are in DRAM and survived. Point the unit at its root table again, invalidate its
 * caches globally and turn translation back on.
 */
const iommu_syscore_ops = {
  resume(): void {
    if (!intel_iommu_enabled) return;
    for (const [iommu, st] of state) {
      iommu.gcmd = 0;
      iommu_set_root_entry(iommu, set_pte_mktme_keyid(st.root / PAGE, st.root));
      iommu_flush_context(iommu, 0, 0, 1);
      iommu_flush_iotlb(iommu, 0, 0, 0, 1);
      iommu_enable_translation(iommu);
    }
  },
};

/** The context entry slot of a device, allocating its bus's context table. */
function context_slot(iommu: intel_iommu, bus: number, devfn: number): number | null {
  const st = state.get(iommu)!;
  let ctx = st.context.get(bus);
  if (ctx === undefined) {
    const t = alloc_pgtable_page();
    if (t < 0) return null;
    ctx = t;
    st.context.set(bus, t);
    pte_write(st.root + bus * 16, mk(set_pte_mktme_keyid(t / PAGE, t), 1)); // root entry: CTP | P
  }
  return ctx + devfn * 16;
}

/**
 * domain_context_mapping_one: a new domain for `pdev` and its context entry.
 * Returns the domain, or null (no memory, or pass-through unsupported).
 */
export function intel_iommu_attach_device(pdev: pci_dev, type: 'DMA' | 'identity'): dmar_domain | null {
  const iommu = dmar_units()[0];
  if (!intel_iommu_enabled || !iommu) return null;
  if (type === 'identity' && !ecap_pass_through(iommu.ecap)) type = 'DMA';
  const slot = context_slot(iommu, pdev.bus, pdev.devfn);
  if (slot === null) return null;
  const pgd = type === 'DMA' ? alloc_pgtable_page() : 0;
  if (pgd < 0) return null;
  const d: dmar_domain = { did: next_did++, type, pgd, iovad: init_iova_domain(pdev.dev.dma_mask_bits), iommu, mapped: 0, pt_cache: new Map() };
  const tt = type === 'DMA' ? CONTEXT_TT_MULTI_LEVEL : CONTEXT_TT_PASS_THROUGH;
  const lo = mk(type === 'DMA' ? set_pte_mktme_keyid(pgd / PAGE, pgd) : 0, (tt << 2) | 1);
  pte_write(slot + 8, { lo: (AGAW_48 | (d.did << 8)) >>> 0, hi: 0 });
  pte_write(slot, lo);
  iommu_flush_context(iommu, d.did, PCI_DEVID(pdev.bus, pdev.devfn), 3);
  iommu_flush_iotlb(iommu, d.did, 0, 0, 2);
  domains.set(pdev.dev, d);
  if (type === 'DMA') pdev.dev.dma_ops = intel_dma_ops;
  return d;
}

// --- map / unmap ----------------------------------------------------------------------------

/** __domain_mapping: `pages` leaves from iov_pfn to phys_pfn.., KeyID from each page. 0 or -ENOMEM. */
export function domain_mapping(d: dmar_domain, iov_pfn: number, phys_pfn: number, pages: number, prot: number): number {
  for (let i = 0; i < pages; i++) {
    const slot = pfn_to_dma_pte(d, iov_pfn + i);
    if (slot === null) return -12;
    const pa = (phys_pfn + i) * PAGE;
    pte_write(slot, mk(set_pte_mktme_keyid(phys_pfn + i, pa), prot));
    d.mapped++;
  }
  return 0;
}

/** dma_pte_clear_range + the IOTLB flush (strict). `flush` false leaves the IOTLB stale. */
export function domain_unmapping(d: dmar_domain, iov_pfn: number, pages: number, flush = true): void {
  for (let i = 0; i < pages; i++) {
    const slot = dma_pte_lookup(d, iov_pfn + i);
    if (slot === null) continue;
    const v = __va(slot);
    if (readl(v) & 3) d.mapped--;
    pte_clear(slot);
  }
  if (flush) iommu_flush_iotlb_psi(d.iommu, d.did, iov_pfn, pages);
}

function dir_prot(dir: number): number {
  let prot = 0;
  if (dir === DMA_TO_DEVICE || dir === DMA_BIDIRECTIONAL) prot |= DMA_PTE_READ;
  if (dir === DMA_FROM_DEVICE || dir === DMA_BIDIRECTIONAL) prot |= DMA_PTE_WRITE;
  return prot;
}

/** The IOMMU's dma_map_ops (drivers/iommu/dma-iommu.c iommu_dma_map_page on intel ops). */
export const intel_dma_ops: dma_map_ops = {
  map_page(dev, phys, _keyid, size, dir) {
    const d = domains.get(dev);
    if (!d || d.type !== 'DMA') return -1;
    // IOVAs lie below the device's DMA mask (the driver sets it after attach).
    if (d.iovad.allocated.size === 0 && d.iovad.top_pfn !== init_iova_domain(dev.dma_mask_bits).top_pfn) {
      d.iovad = init_iova_domain(dev.dma_mask_bits);
    }
    const off = phys % PAGE;
    const pages = Math.ceil((off + size) / PAGE);
    const iov_pfn = alloc_iova(d.iovad, pages);
    if (!iov_pfn) return -1;
    if (domain_mapping(d, iov_pfn, Math.floor(phys / PAGE), pages, dir_prot(dir)) < 0) {
      domain_unmapping(d, iov_pfn, pages);
      free_iova(d.iovad, iov_pfn);
      return -1;
    }
    return iov_pfn * PAGE + off;
  },
  unmap_page(dev, dma, size, _dir) {
    const d = domains.get(dev);
    if (!d) return;
    const iov_pfn = Math.floor(dma / PAGE);
    const pages = iova_size(d.iovad, iov_pfn) || Math.ceil(((dma % PAGE) + size) / PAGE);
    domain_unmapping(d, iov_pfn, pages);
    free_iova(d.iovad, iov_pfn);
  },
};
