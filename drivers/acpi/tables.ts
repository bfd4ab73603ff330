/**
 * The ACPI tables the firmware handed over (Linux drivers/acpi/tables.c
 * acpi_table_parse, reduced to the two this kernel reads): MCFG for the PCI ECAM
 * windows (arch/x86/pci/mmconfig-shared.c) and DMAR for the VT-d units
 * (drivers/iommu/intel/dmar.c). Kept per boot.
 */
import type { AcpiDmar, AcpiMcfgAllocation, BootParams } from '../../arch/x86/hw/isa.js';

let mcfg: AcpiMcfgAllocation[] = [];
let dmar: AcpiDmar | null = null;

export function acpi_table_init(bp: BootParams): void {
  mcfg = bp.mcfg ?? [];
  dmar = bp.dmar ?? null;
}

export function acpi_mcfg(): readonly AcpiMcfgAllocation[] { return mcfg; }
export function acpi_dmar(): AcpiDmar | null { return dmar; }
