/**
 * The guest's way in (Linux arch/x86/kernel/head64.c x86_64_start_kernel and
 * copy_bootdata, arch/x86/kernel/mpparse.c): the firmware view a VMM left in guest
 * memory, read with paging off (linear = guest-physical), turned into the BootParams
 * that start_kernel takes from a real board's firmware.
 *
 *  - the zero page (struct boot_params): e820_entries at 0x1e8, e820_table at 0x2d0,
 *    hdr.cmd_line_ptr at 0x228 and hdr.cmdline_size at 0x238;
 *  - the MP table (MultiProcessor Specification 1.4): smp_scan_config looks for the
 *    "_MP_" floating pointer in the BIOS area [0xf0000, 0x100000) on 16-byte
 *    boundaries, checks both checksums, and counts the enabled processor entries.
 *
 * Bad firmware data is the VMM's bug, but must not crash the guest kernel's boot with a
 * host exception: every field is bounds-checked and a broken table is an Error that
 * start_kernel's caller reports as a panic.
 */
import { E820_TYPE_RAM, type BootParams, type E820Entry, type X86Cpu } from '../hw/isa.js';
import {
  BIOS_BEGIN, BIOS_END, BOOT_E820_ENTRY_SIZE, BOOT_PARAMS_GPA, COMMAND_LINE_SIZE, CPU_ENABLED,
  E820_MAX_ENTRIES_ZEROPAGE, MP_PROCESSOR, ZP_CMD_LINE_PTR, ZP_CMDLINE_SIZE, ZP_E820_ENTRIES, ZP_E820_TABLE,
} from '../include/uapi/asm/bootparam.js';
import { start_kernel } from '../../../init/main.js';
import { start_secondary } from './smpboot.js';

function readPhys(cpu: X86Cpu, pa: number, len: number): Uint8Array {
  const b = new Uint8Array(len);
  cpu.read(pa, b);
  return b;
}

function le(b: Uint8Array, off: number, bytes: number): number {
  let v = 0;
  for (let i = bytes - 1; i >= 0; i--) v = v * 256 + b[off + i];
  return v;
}

function sum8(b: Uint8Array, start: number, len: number): number {
  let s = 0;
  for (let i = start; i < start + len; i++) s = (s + b[i]) & 0xff;
  return s;
}

/** copy_bootdata + the e820 table of the zero page at `zp`. */
export function parse_boot_params(cpu: X86Cpu, zp: number): { e820: E820Entry[]; cmdline: string } {
  const page = readPhys(cpu, zp, 4096);
  const n = page[ZP_E820_ENTRIES];
  if (n > E820_MAX_ENTRIES_ZEROPAGE) throw new Error(`boot_params: ${n} e820 entries`);
  const e820: E820Entry[] = [];
  for (let i = 0; i < n; i++) {
    const at = ZP_E820_TABLE + BOOT_E820_ENTRY_SIZE * i;
    e820.push({ addr: le(page, at, 8), size: le(page, at + 8, 8), type: le(page, at + 16, 4) });
  }
  const ptr = le(page, ZP_CMD_LINE_PTR, 4);
  const size = Math.min(le(page, ZP_CMDLINE_SIZE, 4), COMMAND_LINE_SIZE - 1);
  const cmdline = ptr ? new TextDecoder().decode(readPhys(cpu, ptr, size)).replace(/\0.*$/s, '') : '';
  return { e820, cmdline };
}

/** smp_scan_config + the processor entries: how many CPUs the MP table enables. */
export function mp_processor_count(cpu: X86Cpu): number {
  const bios = readPhys(cpu, BIOS_BEGIN, BIOS_END - BIOS_BEGIN);
  for (let off = 0; off + 16 <= bios.length; off += 16) {
    if (bios[off] !== 0x5f || bios[off + 1] !== 0x4d || bios[off + 2] !== 0x50 || bios[off + 3] !== 0x5f) continue;
    if (bios[off + 8] !== 1 || sum8(bios, off, 16) !== 0) continue;
    const table = le(bios, off + 4, 4) - BIOS_BEGIN;
    if (table < 0 || table + 44 > bios.length) throw new Error('MP table: configuration table outside the BIOS area');
    const len = le(bios, table + 4, 2);
    if (table + len > bios.length || sum8(bios, table, len) !== 0) throw new Error('MP table: bad checksum');
    const count = le(bios, table + 34, 2);
    let cpus = 0;
    for (let i = 0, e = table + 44; i < count && e + 20 <= table + len; i++, e += 20) {
      if (bios[e] === MP_PROCESSOR && bios[e + 3] & CPU_ENABLED) cpus++;
    }
    return cpus;
  }
  return 1; // no MP table: a uniprocessor, as Linux assumes
}

/**
 * x86_64_start_kernel for a guest: the BootParams its firmware view describes. `bsp` is
 * the boot vCPU (the handle a board's firmware would hand over); the MP table's other
 * CPUs are APs that the VMM parked at secondary_startup_64.
 */
export function guest_boot_params(bsp: X86Cpu, zp: number): BootParams {
  const { e820, cmdline } = parse_boot_params(bsp, zp);
  const n = mp_processor_count(bsp);
  if (n < 1) throw new Error('MP table enables no CPU');
  const ram = e820.filter((e) => e.type === E820_TYPE_RAM);
  return {
    e820,
    memAffinity: ram.map((e) => ({ base: e.addr, size: e.size, node: 0 })),
    cpus: [bsp],
    nrCpus: n,
    cpuNode: new Array<number>(n).fill(0),
    cmdline,
  };
}

/**
 * x86_64_start_kernel: a guest's first routine on its boot vCPU (the VMM points
 * GUEST_RIP at it), with paging off. The kernel console is whatever console= names
 * (ttyS0 from the 8250 driver); there is no host sink. Returns when the system is
 * running: the caller (the image's init, see tools/guest/init.ts) starts user space.
 */
export function x86_64_start_kernel(bsp: X86Cpu): void {
  start_kernel(guest_boot_params(bsp, BOOT_PARAMS_GPA), null);
}

/**
 * secondary_startup_64: where the VMM points each AP's RIP (kvmtool and QEMU start APs
 * in the firmware's wait loop; here the firmware view parks them at the kernel's AP
 * entry). It runs when the first IPI reaches the AP (start_secondary).
 */
export function secondary_startup_64(cpu: X86Cpu): void {
  start_secondary(cpu);
}
