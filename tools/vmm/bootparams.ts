/**
 * The guest's firmware view, as the VMM writes it into guest RAM before the first
 * KVM_RUN (kvmtool x86/kvm.c load_bzimage and x86/mptable.c):
 *
 *  - the zero page (struct boot_params, Documentation/arch/x86/zero-page.rst) at
 *    BOOT_PARAMS_GPA: e820_entries (0x1e8, u8) and e820_table (0x2d0, 20-byte entries
 *    {addr u64, size u64, type u32}), hdr.cmd_line_ptr (0x228, u32) and
 *    hdr.cmdline_size (0x238, u32);
 *  - the kernel command line, NUL-terminated, at BOOT_CMDLINE_GPA;
 *  - an Intel MP table (MultiProcessor Specification 1.4, §4): the floating pointer
 *    "_MP_" in the BIOS area at MPTABLE_GPA, pointing at a "PCMP" configuration table
 *    with one processor entry per vCPU (the CPU count the guest boots).
 *
 * The guest's e820: [0, 1 MiB) reserved (real-mode area, zero page, MP table), RAM from
 * 1 MiB to the end of guest memory, and each shared region as reserved (an ivshmem-like
 * device's window: not RAM the guest allocates from, but in its memory map, direct-
 * mapped, so /proc/iomem lists it and devmem reaches it).
 */
import { E820_TYPE_RAM, E820_TYPE_RESERVED, type E820Entry } from '../../arch/x86/hw/isa.js';
import {
  BOOT_CMDLINE_GPA, BOOT_E820_ENTRY_SIZE, BOOT_PARAMS_GPA, COMMAND_LINE_SIZE, CPU_BOOTPROCESSOR, CPU_ENABLED,
  E820_MAX_ENTRIES_ZEROPAGE, MP_PROCESSOR, MPTABLE_GPA, ZP_CMD_LINE_PTR, ZP_CMDLINE_SIZE, ZP_E820_ENTRIES,
  ZP_E820_TABLE,
} from '../../arch/x86/include/uapi/asm/bootparam.js';

export { BOOT_CMDLINE_GPA, BOOT_PARAMS_GPA, MPTABLE_GPA };
/** Below 1 MiB: real-mode area, zero page, command line, MP table. */
export const LOW_RESERVED = 0x100000;
const ZERO_PAGE_SIZE = 4096;

export interface GuestLayout {
  ramSize: number;
  regions: readonly { gpa: number; size: number }[];
}

/** The guest's e820 table, sorted by address. */
export function guestE820(layout: GuestLayout): E820Entry[] {
  const out: E820Entry[] = [
    { addr: 0, size: LOW_RESERVED, type: E820_TYPE_RESERVED },
    { addr: LOW_RESERVED, size: layout.ramSize - LOW_RESERVED, type: E820_TYPE_RAM },
    ...layout.regions.map((r) => ({ addr: r.gpa, size: r.size, type: E820_TYPE_RESERVED })),
  ];
  return out.sort((a, b) => a.addr - b.addr);
}

function put(b: Uint8Array, off: number, v: number, bytes: number): void {
  for (let i = 0; i < bytes; i++) b[off + i] = Math.floor(v / 2 ** (8 * i)) % 256;
}

/** The zero page's bytes. */
export function zeroPage(e820: readonly E820Entry[], cmdlineLen: number): Uint8Array {
  if (e820.length > E820_MAX_ENTRIES_ZEROPAGE) throw new Error('too many e820 entries');
  const zp = new Uint8Array(ZERO_PAGE_SIZE);
  zp[ZP_E820_ENTRIES] = e820.length;
  put(zp, ZP_CMD_LINE_PTR, BOOT_CMDLINE_GPA, 4);
  put(zp, ZP_CMDLINE_SIZE, cmdlineLen, 4);
  e820.forEach((e, i) => {
    const at = ZP_E820_TABLE + BOOT_E820_ENTRY_SIZE * i;
    put(zp, at, e.addr, 8);
    put(zp, at + 8, e.size, 8);
    put(zp, at + 16, e.type, 4);
  });
  return zp;
}

function checksum(b: Uint8Array, start: number, len: number): number {
  let s = 0;
  for (let i = start; i < start + len; i++) s = (s + b[i]) & 0xff;
  return (256 - s) & 0xff;
}

/** An MP floating pointer (16 bytes) followed by its configuration table. */
function mpTable(ncpus: number): Uint8Array {
  const entries = ncpus;
  const tableLen = 44 + 20 * entries;
  const b = new Uint8Array(16 + tableLen);
  const ascii = (off: number, s: string): void => { for (let i = 0; i < s.length; i++) b[off + i] = s.charCodeAt(i); };
  // Floating pointer structure (MultiProcessor Specification 1.4, §4.1).
  ascii(0, '_MP_');
  put(b, 4, MPTABLE_GPA + 16, 4); // physical address of the configuration table
  b[8] = 1; // length in 16-byte units
  b[9] = 4; // spec revision 1.4
  b[10] = 0;
  b[10] = checksum(b, 0, 16);
  // Configuration table header (§4.2).
  const t = 16;
  ascii(t, 'PCMP');
  put(b, t + 4, tableLen, 2);
  b[t + 6] = 4;
  ascii(t + 8, 'KVMCPU00');
  ascii(t + 16, '0.1         ');
  put(b, t + 34, entries, 2);
  put(b, t + 36, 0xfee00000, 4); // local APIC address
  // Processor entries (§4.3.1): type 0, APIC id, version, flags EN | BSP, signature.
  for (let i = 0; i < ncpus; i++) {
    const e = t + 44 + 20 * i;
    b[e] = MP_PROCESSOR;
    b[e + 1] = i;
    b[e + 2] = 0x14;
    b[e + 3] = CPU_ENABLED | (i === 0 ? CPU_BOOTPROCESSOR : 0);
    put(b, e + 4, 0x606a6, 4);
  }
  b[t + 7] = checksum(b, t, tableLen);
  return b;
}

/** Everything the VMM writes, as (gpa, bytes) pairs. */
export function firmwareImage(layout: GuestLayout, ncpus: number, cmdline: string): [number, Uint8Array][] {
  const cmd = new TextEncoder().encode(cmdline);
  if (cmd.length >= COMMAND_LINE_SIZE) throw new Error(`command line longer than ${COMMAND_LINE_SIZE - 1} bytes`);
  const cmdz = new Uint8Array(cmd.length + 1);
  cmdz.set(cmd);
  return [
    [BOOT_PARAMS_GPA, zeroPage(guestE820(layout), cmd.length)],
    [BOOT_CMDLINE_GPA, cmdz],
    [MPTABLE_GPA, mpTable(ncpus)],
  ];
}
