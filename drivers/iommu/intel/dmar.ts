/**
 * DMAR: the firmware's description of the remapping units, each unit's registers, and
 * its fault reporting (Linux drivers/iommu/intel/dmar.c: dmar_table_init,
 * dmar_parse_one_drhd, alloc_iommu, dmar_fault, dmar_fault_do_one; register names
 * from include/linux/intel-iommu.h). Messages are Linux's, with its "DMAR: " prefix.
 *
 * The fault "interrupt": the unit sets FECTL.IP and FSTS.PPF. The board has no
 * interrupt controller yet, so dmar_fault() runs where an interrupt would be taken
 * at the latest: after each request a driver submits (dmar_fault_poll).
 */
import { readl, writel } from '../../../arch/x86/include/asm/processor.js';
import { ioremap } from '../../../arch/x86/mm/ioremap.js';
import { pr_err, pr_info } from '../../../kernel/printk.js';
import { acpi_dmar } from '../../acpi/tables.js';
import { insert_resource } from '../../../kernel/resource.js';

export const DMAR_VER_REG = 0x00, DMAR_CAP_REG = 0x08, DMAR_ECAP_REG = 0x10, DMAR_GCMD_REG = 0x18;
export const DMAR_GSTS_REG = 0x1c, DMAR_RTADDR_REG = 0x20, DMAR_CCMD_REG = 0x28, DMAR_FSTS_REG = 0x34;
export const DMAR_FECTL_REG = 0x38;
export const DMA_GCMD_TE = 0x8000_0000, DMA_GCMD_SRTP = 0x4000_0000;
export const DMA_GSTS_TES = 0x8000_0000, DMA_GSTS_RTPS = 0x4000_0000;
export const DMA_FSTS_PFO = 1, DMA_FSTS_PPF = 2;
export const DMA_FRCD_F = 0x8000_0000;
const PRIMARY_FAULT_REG_LEN = 16;

/** The capability fields the driver uses (cap_* / ecap_* macros). */
export const cap_fault_reg_offset = (c: bigint): number => Number((c >> 24n) & 0x3ffn) * 16;
export const cap_num_fault_regs = (c: bigint): number => Number((c >> 40n) & 0xffn) + 1;
export const cap_pgsel_inv = (c: bigint): boolean => ((c >> 39n) & 1n) === 1n;
export const cap_max_amask_val = (c: bigint): number => Number((c >> 48n) & 0x3fn);
export const ecap_pass_through = (e: bigint): boolean => ((e >> 6n) & 1n) === 1n;
export const ecap_iotlb_offset = (e: bigint): number => Number((e >> 8n) & 0x3ffn) * 16;

/** struct intel_iommu, reduced. */
export interface intel_iommu {
  name: string;
  seq_id: number;
  reg_phys: number;
  /** ioremapped register page. */
  reg: number;
  cap: bigint;
  ecap: bigint;
  /** GCMD bits software keeps set (TE). */
  gcmd: number;
  /** Faults reported (for tests and /proc). */
  faults: number;
}

let host_address_width = 0;
let units: intel_iommu[] = [];

export function dmar_reset(): void { host_address_width = 0; units = []; fault_log = []; }
export function dmar_units(): readonly intel_iommu[] { return units; }

export function dmar_readq(iommu: intel_iommu, off: number): bigint {
  return BigInt(readl(iommu.reg + off) >>> 0) | (BigInt(readl(iommu.reg + off + 4) >>> 0) << 32n);
}
/** dmar_writeq as lo_hi_writeq: the low half first, the command in the high half last. */
export function dmar_writeq(iommu: intel_iommu, off: number, v: bigint): void {
  writel(iommu.reg + off, Number(v & 0xffffffffn));
  writel(iommu.reg + off + 4, Number((v >> 32n) & 0xffffffffn));
}
export function dmar_readl(iommu: intel_iommu, off: number): number { return readl(iommu.reg + off) >>> 0; }
export function dmar_writel(iommu: intel_iommu, off: number, v: number): void { writel(iommu.reg + off, v >>> 0); }

function hex(n: number | bigint, w = 0): string { return n.toString(16).padStart(w, '0'); }

/**
 * dmar_table_init + alloc_iommu: parse the DMAR table, map each DRHD's registers,
 * read CAP/ECAP. Returns the number of units, or -ENODEV without a table.
 */
export function dmar_table_init(): number {
  dmar_reset();
  const t = acpi_dmar();
  if (!t) return -19;
  host_address_width = t.width + 1;
  pr_info(`DMAR: Host address width ${host_address_width}`);
  for (const drhd of t.drhd) {
    pr_info(`DMAR: DRHD base: 0x${hex(drhd.address, 14)} flags: 0x${hex(drhd.flags)}`);
    const reg = ioremap(drhd.address, 4096);
    if (!reg) { pr_err('DMAR: can\'t map the iommu'); continue; }
    const iommu: intel_iommu = {
      name: `dmar${units.length}`, seq_id: units.length, reg_phys: drhd.address, reg, cap: 0n, ecap: 0n, gcmd: 0, faults: 0,
    };
    iommu.cap = dmar_readq(iommu, DMAR_CAP_REG);
    iommu.ecap = dmar_readq(iommu, DMAR_ECAP_REG);
    const ver = dmar_readl(iommu, DMAR_VER_REG);
    pr_info(`DMAR: ${iommu.name}: reg_base_addr ${hex(drhd.address)} ver ${ver >>> 4}:${ver & 0xf} cap ${hex(iommu.cap)} ecap ${hex(iommu.ecap)}`);
    units.push(iommu);
    insert_resource(iommu.name, drhd.address, drhd.address + 4095);
  }
  return units.length;
}

/** dma_remap_fault_reasons[] (dmar.c), indexed by the fault reason code. */
export const dma_remap_fault_reasons = [
  'Software',
  'Present bit in root entry is clear',
  'Present bit in context entry is clear',
  'Invalid context entry',
  'Access beyond MGAW',
  'PTE Write access is not set',
  'PTE Read access is not set',
  'Next page table ptr is invalid',
  'Root table address invalid',
  'Context table ptr is invalid',
  'non-zero reserved fields in RTP',
  'non-zero reserved fields in CTP',
  'non-zero reserved fields in PTE',
  'PCE for translation request specifies blocking',
];

export function dmar_get_fault_reason(r: number): string {
  return r < dma_remap_fault_reasons.length ? dma_remap_fault_reasons[r] : 'Unknown';
}

/** One reported fault, as the handler decoded it (for tests). */
export interface dmar_fault_info { source_id: number; addr: number; reason: number; read: boolean }
let fault_log: dmar_fault_info[] = [];
export function dmar_fault_log(): readonly dmar_fault_info[] { return fault_log; }

/** dmar_fault_do_one: the line Linux prints for a fault without PASID. */
function dmar_fault_do_one(f: dmar_fault_info): void {
  const bus = f.source_id >>> 8, devfn = f.source_id & 0xff;
  pr_err(`DMAR: [${f.read ? 'DMA Read' : 'DMA Write'} NO_PASID] Request device [${hex(bus, 2)}:${hex(devfn >>> 3, 2)}.${devfn & 7}] ` +
    `fault addr 0x${hex(f.addr)} [fault reason 0x${hex(f.reason, 2)}] ${dmar_get_fault_reason(f.reason)}`);
}

/** dmar_fault: the fault-event handler. Reads and clears every pending record. */
export function dmar_fault(iommu: intel_iommu): number {
  const fsts = dmar_readl(iommu, DMAR_FSTS_REG);
  if (fsts) pr_err(`DMAR: DRHD: handling fault status reg ${hex(fsts)}`);
  if (!(fsts & DMA_FSTS_PPF)) { if (fsts & DMA_FSTS_PFO) dmar_writel(iommu, DMAR_FSTS_REG, DMA_FSTS_PFO); return 0; }
  const base = cap_fault_reg_offset(iommu.cap);
  const n = cap_num_fault_regs(iommu.cap);
  const index = (fsts >>> 8) & 0xff; // FRI: the oldest pending record
  let handled = 0;
  for (let k = 0; k < n; k++) {
    const at = base + ((index + k) % n) * PRIMARY_FAULT_REG_LEN;
    const hi = dmar_readl(iommu, at + 12);
    if (!(hi & DMA_FRCD_F)) continue;
    const info: dmar_fault_info = {
      reason: hi & 0xff,
      read: ((hi >>> 30) & 1) === 1,
      source_id: dmar_readl(iommu, at + 8) & 0xffff,
      addr: Number(dmar_readq(iommu, at) & ~0xfffn),
    };
    dmar_writel(iommu, at + 12, DMA_FRCD_F); // clear the record
    dmar_fault_do_one(info);
    fault_log.push(info);
    iommu.faults++;
    handled++;
  }
  dmar_writel(iommu, DMAR_FSTS_REG, DMA_FSTS_PFO | DMA_FSTS_PPF);
  return handled;
}

/** Run the fault handler of every unit with a fault pending (the polled interrupt). */
export function dmar_fault_poll(): number {
  let n = 0;
  for (const u of units) if (dmar_readl(u, DMAR_FSTS_REG) & (DMA_FSTS_PPF | DMA_FSTS_PFO)) n += dmar_fault(u);
  return n;
}
