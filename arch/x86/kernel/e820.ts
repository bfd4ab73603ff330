/**
 * The firmware memory map as the kernel received it (Linux arch/x86/kernel/e820.c):
 * a sorted copy of BootParams.e820 and its boot-log print,
 *
 *   BIOS-provided physical RAM map:
 *   BIOS-e820: [mem 0x0000000000000000-0x00000000000fffff] reserved
 *
 * (e820__print_table with e820_print_type's names), and `mem=` (parse_memopt), whose
 * limit memblock applies.
 */
import {
  E820_TYPE_PMEM, E820_TYPE_RAM, E820_TYPE_RESERVED, type E820Entry,
} from '../hw/isa.js';
import { pr_info } from '../../../kernel/printk.js';
import { EINVAL } from '../../../kernel/errno.js';
import { early_param } from '../../../kernel/params.js';
import { memparse } from '../../../lib/cmdline.js';

/** Types Linux names besides RAM/RESERVED/PMEM (arch/x86/include/asm/e820/types.h). */
const E820_TYPE_ACPI = 3;
const E820_TYPE_NVS = 4;
const E820_TYPE_UNUSABLE = 5;
const E820_TYPE_PRAM = 12;
const E820_TYPE_SOFT_RESERVED = 0xefffffff;

let e820_table_firmware: E820Entry[] = [];

/** mem=SIZE: use no RAM above SIZE (null: all of it). */
let mem_limit: number | null = null;

/** parse_memopt(): `mem=SIZE` with memparse's suffixes; memblock applies the limit. */
function parse_memopt(p: string | null): number {
  const v = p === null ? null : memparse(p);
  if (v === null || v === 0) return -EINVAL;
  mem_limit = v;
  return 0;
}
early_param('mem', parse_memopt, () => { mem_limit = null; });

/** The mem= limit in bytes, or null. */
export function e820__mem_limit(): number | null { return mem_limit; }

/** e820_print_type(). */
export function e820_type_name(type: number): string {
  switch (type) {
    case E820_TYPE_RAM: return 'usable';
    case E820_TYPE_RESERVED: return 'reserved';
    case E820_TYPE_SOFT_RESERVED: return 'soft reserved';
    case E820_TYPE_ACPI: return 'ACPI data';
    case E820_TYPE_NVS: return 'ACPI NVS';
    case E820_TYPE_UNUSABLE: return 'unusable';
    case E820_TYPE_PMEM:
    case E820_TYPE_PRAM: return `persistent (type ${type})`;
    default: return `type ${type}`;
  }
}

function hex016(n: number): string { return '0x' + n.toString(16).padStart(16, '0'); }

/** One line per entry: "WHO: [mem 0x%016llx-0x%016llx] TYPE". */
export function e820__print_table(who: string, table: readonly E820Entry[]): void {
  for (const e of table) {
    pr_info(`${who}: [mem ${hex016(e.addr)}-${hex016(e.addr + e.size - 1)}] ${e820_type_name(e.type)}`);
  }
}

/** e820__memory_setup(): keep the firmware's table (sorted) and print it. */
export function e820__memory_setup(table: readonly E820Entry[]): void {
  e820_table_firmware = table
    .filter((e) => Number.isSafeInteger(e.addr) && Number.isSafeInteger(e.size) && e.size > 0)
    .map((e) => ({ addr: e.addr, size: e.size, type: e.type }))
    .sort((a, b) => a.addr - b.addr);
  pr_info('BIOS-provided physical RAM map:');
  e820__print_table('BIOS-e820', e820_table_firmware);
}

