/**
 * The firmware's ACPI tables for I/O: MCFG (PCI Firmware spec 3.2 §4.1.2, the ECAM
 * window) and DMAR (VT-d spec ch. 8 "BIOS Considerations": host address width and
 * one DMA Remapping Hardware Unit Definition with INCLUDE_PCI_ALL, i.e. every device
 * of segment 0 is behind the one unit). Without VT-d enabled in the BIOS
 * (`--bios vtd=off`) there is no DMAR table and the kernel finds no IOMMU.
 */
import type { AcpiDmar, AcpiMcfgAllocation } from '../isa.js';
import { ECAM_BASE, ECAM_BUSES } from '../pci/host.js';
import { VTD_REG_BASE } from './vtd.js';

export const DMAR_INCLUDE_PCI_ALL = 1;
/** DMAR flags bit 0: INTR_REMAP (not offered); bit 1: X2APIC_OPT_OUT. */
export const DMAR_FLAGS = 0;

export function buildMcfg(): AcpiMcfgAllocation[] {
  return [{ base: ECAM_BASE, segment: 0, startBus: 0, endBus: ECAM_BUSES - 1 }];
}

export function buildDmar(maxPhysAddr: number): AcpiDmar {
  return {
    width: maxPhysAddr - 1, // "Host Address Width: N-1" as the table encodes it
    flags: DMAR_FLAGS,
    drhd: [{ flags: DMAR_INCLUDE_PCI_ALL, segment: 0, address: VTD_REG_BASE, scope: [] }],
  };
}
