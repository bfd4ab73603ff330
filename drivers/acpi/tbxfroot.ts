/**
 * Finding ACPI tables in a guest's memory (Linux drivers/acpi/acpica/tbxfroot.c
 * acpi_tb_validate_rsdp, tbutils.c acpi_tb_parse_root_table, and
 * arch/x86/pci/mmconfig-shared.c pci_parse_mcfg): the "RSD PTR " root pointer, its
 * XSDT, and the MCFG
 * table's allocation entries (PCI Firmware Specification 3.2 §4.1.2: base u64,
 * segment u16, start bus u8, end bus u8, 4 reserved). Only the MCFG is read: it is
 * the one table a VMM with a PCI device writes (no DMAR: the guest has no vIOMMU).
 *
 * A physical board's firmware hands BootParams over directly; a guest reads these
 * with paging off (linear = guest-physical), as head64 reads the zero page. The RSDP
 * is where boot_params.acpi_rsdp_addr says (x86_default_get_root_pointer); this tree
 * does not fall back to scanning the BIOS area when it is 0, since the VMM always sets
 * it when it writes ACPI tables, and a scan would fault in 32 more guest pages at every
 * boot. Bad checksums or lengths: the table is ignored, as ACPICA does.
 */
import type { AcpiMcfgAllocation, X86Cpu } from '../../arch/x86/hw/isa.js';

const SIG_RSDP = 'RSD PTR ';
const HEADER = 36; // struct acpi_table_header
const MCFG_ENTRIES = 44; // header + 8 reserved bytes
const MCFG_ENTRY = 16;
const MAX_TABLE = 64 * 1024;

function le(b: Uint8Array, off: number, bytes: number): number {
  let v = 0;
  for (let i = bytes - 1; i >= 0; i--) v = v * 256 + b[off + i];
  return v;
}
function sig(b: Uint8Array, off: number, len: number): string { return String.fromCharCode(...b.subarray(off, off + len)); }
function sum8(b: Uint8Array, start: number, len: number): number {
  let s = 0;
  for (let i = start; i < start + len; i++) s = (s + b[i]) & 0xff;
  return s;
}

/** An ACPI table at `pa` with a good length and checksum, or null. */
function table(cpu: X86Cpu, pa: number, limit: number): Uint8Array | null {
  if (pa < 0 || pa + HEADER > limit) return null;
  const h = new Uint8Array(HEADER);
  cpu.read(pa, h);
  const len = le(h, 4, 4);
  if (len < HEADER || len > MAX_TABLE || pa + len > limit) return null;
  const t = new Uint8Array(len);
  cpu.read(pa, t);
  return sum8(t, 0, len) === 0 ? t : null;
}

/** acpi_tb_validate_rsdp at `rsdp`: the XSDT's address (ACPI 2.0+), or 0. */
function acpi_rsdp_xsdt(cpu: X86Cpu, rsdp: number, limit: number): number {
  if (!rsdp || rsdp % 16 || rsdp + 36 > limit) return 0;
  const r = new Uint8Array(36);
  cpu.read(rsdp, r);
  if (sig(r, 0, 8) !== SIG_RSDP || sum8(r, 0, 20) !== 0) return 0;
  if (r[15] < 2 || le(r, 20, 4) < 36 || sum8(r, 0, 36) !== 0) return 0; // revision 2: XSDT, extended checksum
  return le(r, 24, 8);
}

/**
 * The MCFG allocations of the tables whose RSDP is at `rsdp` (empty without an RSDP
 * or MCFG). `limit` is the end of guest RAM: every table must lie inside it.
 */
export function acpi_guest_mcfg(cpu: X86Cpu, rsdp: number, limit: number): AcpiMcfgAllocation[] {
  const x = acpi_rsdp_xsdt(cpu, rsdp, limit);
  const xsdt = x ? table(cpu, x, limit) : null;
  if (!xsdt || sig(xsdt, 0, 4) !== 'XSDT') return [];
  for (let e = HEADER; e + 8 <= xsdt.length; e += 8) {
    const t = table(cpu, le(xsdt, e, 8), limit);
    if (!t || sig(t, 0, 4) !== 'MCFG') continue;
    const out: AcpiMcfgAllocation[] = [];
    for (let a = MCFG_ENTRIES; a + MCFG_ENTRY <= t.length; a += MCFG_ENTRY) {
      const m = { base: le(t, a, 8), segment: le(t, a + 8, 2), startBus: t[a + 10], endBus: t[a + 11] };
      if (m.endBus >= m.startBus) out.push(m);
    }
    return out;
  }
  return [];
}
