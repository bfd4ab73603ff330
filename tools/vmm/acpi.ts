/**
 * The ACPI tables a VMM writes for a guest with PCI devices (QEMU hw/acpi/aml-build.c
 * build_rsdp / build_xsdt, hw/pci-host/gpex-acpi.c and hw/i386/acpi-build.c
 * build_mcfg): an RSDP (ACPI 6.x §5.2.5, revision 2) in the BIOS area, an XSDT
 * (§5.2.8) listing one table, and the MCFG (PCI Firmware Specification 3.2 §4.1.2)
 * naming the guest's ECAM window for segment 0. No DMAR: the guest gets no vIOMMU;
 * its DMA addresses are guest-physical and the host's IOMMU domain translates them.
 *
 * The zero page's acpi_rsdp_addr points at the RSDP (as QEMU's and cloud-hypervisor's
 * direct kernel boot set it); the guest reads the tables in drivers/acpi/tbxfroot.ts.
 */
import { ZP_ACPI_RSDP_ADDR } from '../../arch/x86/include/uapi/asm/bootparam.js';
export const ACPI_RSDP_GPA = 0xe0000;
/** The guest's ECAM window (QEMU q35 puts MMCONFIG at 0xb0000000; this board's host uses 0xe0000000). */
export const GUEST_ECAM_BASE = 0xe000_0000;
export const GUEST_ECAM_BUSES = 1;

const RSDP_LEN = 36;
const HEADER = 36;

function put(b: Uint8Array, off: number, v: number, bytes: number): void {
  for (let i = 0; i < bytes; i++) b[off + i] = Math.floor(v / 2 ** (8 * i)) % 256;
}
function ascii(b: Uint8Array, off: number, s: string): void { for (let i = 0; i < s.length; i++) b[off + i] = s.charCodeAt(i); }
function checksum(b: Uint8Array, start: number, len: number): number {
  let s = 0;
  for (let i = start; i < start + len; i++) s = (s + b[i]) & 0xff;
  return (256 - s) & 0xff;
}

/** struct acpi_table_header; the checksum (byte 9) is set once the body is filled. */
function header(b: Uint8Array, off: number, signature: string, len: number, revision: number): void {
  ascii(b, off, signature);
  put(b, off + 4, len, 4);
  b[off + 8] = revision;
  ascii(b, off + 10, 'MKTME ');       // OEM ID
  ascii(b, off + 16, 'LKVMACPI');     // OEM table ID
  put(b, off + 24, 1, 4);             // OEM revision
  ascii(b, off + 28, 'LKVM');         // creator ID
  put(b, off + 32, 1, 4);             // creator revision
}

/** RSDP, XSDT and MCFG, contiguous at ACPI_RSDP_GPA: (gpa, bytes). */
export function acpiTables(): [number, Uint8Array] {
  const xsdt = RSDP_LEN + 12; // 16-byte aligned after the RSDP
  const xsdtLen = HEADER + 8;
  const mcfg = xsdt + xsdtLen;
  const mcfgLen = HEADER + 8 + 16;
  const b = new Uint8Array(mcfg + mcfgLen);
  // RSDP: signature, checksum (first 20 bytes), OEM, revision 2, RSDT 0, length, XSDT, ext checksum.
  ascii(b, 0, 'RSD PTR ');
  ascii(b, 9, 'MKTME ');
  b[15] = 2;
  put(b, 20, RSDP_LEN, 4);
  put(b, 24, ACPI_RSDP_GPA + xsdt, 8);
  b[8] = checksum(b, 0, 20);
  b[32] = checksum(b, 0, RSDP_LEN);
  header(b, xsdt, 'XSDT', xsdtLen, 1);
  put(b, xsdt + HEADER, ACPI_RSDP_GPA + mcfg, 8);
  b[xsdt + 9] = checksum(b, xsdt, xsdtLen);
  header(b, mcfg, 'MCFG', mcfgLen, 1);
  const a = mcfg + HEADER + 8;
  put(b, a, GUEST_ECAM_BASE, 8);
  put(b, a + 8, 0, 2);                 // segment 0
  b[a + 10] = 0;                       // start bus
  b[a + 11] = GUEST_ECAM_BUSES - 1;    // end bus
  b[mcfg + 9] = checksum(b, mcfg, mcfgLen);
  return [ACPI_RSDP_GPA, b];
}

/** Point the zero page's acpi_rsdp_addr at the RSDP. */
export function setRsdpAddr(zeroPage: Uint8Array): void { put(zeroPage, ZP_ACPI_RSDP_ADDR, ACPI_RSDP_GPA, 8); }
