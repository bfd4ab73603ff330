/**
 * /proc/iomem (Linux kernel/resource.c r_show): the physical address map as a resource
 * tree, "%0*llx-%0*llx : %s" with width 8 and two spaces of indent per level:
 *
 *   00000000-000fffff : Reserved
 *   00100000-07ffffff : System RAM
 *     01000000-011fffff : Kernel code
 *     ...
 *   100000000-103ffffff : Persistent Memory
 *
 * Top-level entries are the e820 table after mem= (e820_type_to_string's names); the
 * kernel image's sections sit inside the System RAM range holding them; drivers' claims
 * (kernel/resource.ts: the PCI host bridge window, ECAM, BARs, the IOMMU's registers)
 * sit where their addresses fall.
 *
 * Without CAP_SYS_ADMIN the reader sees the names with every address zeroed, as
 * r_show does ("start = end = 0" unless file_ns_capable(file, CAP_SYS_ADMIN)); the
 * text is made at open, as the opener.
 */
import {
  E820_TYPE_PMEM, E820_TYPE_RAM, E820_TYPE_RESERVED,
} from '../../arch/x86/hw/isa.js';
import {
  KERNEL_BSS, KERNEL_DATA, KERNEL_EDATA, KERNEL_END, KERNEL_ETEXT, KERNEL_RODATA, KERNEL_RODATA_END,
  KERNEL_TEXT, e820_table,
} from '../../mm/memblock.js';
import { proc_create } from './generic.js';
import { insert_into, iomem_resources, type resource } from '../../kernel/resource.js';
import { CAP_SYS_ADMIN, reader_capable } from '../../kernel/capability.js';

/** e820_type_to_string(). */
function type_name(type: number): string {
  switch (type) {
    case E820_TYPE_RAM: return 'System RAM';
    case E820_TYPE_RESERVED: return 'Reserved';
    case E820_TYPE_PMEM: return 'Persistent Memory';
    case 3: return 'ACPI Tables';
    case 4: return 'ACPI Non-volatile Storage';
    case 5: return 'Unusable memory';
    case 12: return 'Persistent Memory (legacy)';
    default: return 'Reserved';
  }
}

function line(depth: number, start: number, end: number, name: string, root: boolean): string {
  const h = (n: number): string => n.toString(16).padStart(8, '0');
  return `${' '.repeat(depth * 2)}${h(root ? start : 0)}-${h(root ? end - 1 : 0)} : ${name}\n`;
}

const KERNEL_SECTIONS: [number, number, string][] = [
  [KERNEL_TEXT, KERNEL_ETEXT, 'Kernel code'],
  [KERNEL_RODATA, KERNEL_RODATA_END, 'Kernel rodata'],
  [KERNEL_DATA, KERNEL_EDATA, 'Kernel data'],
  [KERNEL_BSS, KERNEL_END, 'Kernel bss'],
];

/** The e820 ranges (with the kernel image inside System RAM), then every driver's claim. */
function iomem_tree(): resource[] {
  const top: resource[] = [];
  for (const e of e820_table()) {
    const end = e.addr + e.size;
    insert_into(top, type_name(e.type), e.addr, end - 1);
    if (e.type !== E820_TYPE_RAM) continue;
    for (const [ks, ke, name] of KERNEL_SECTIONS) {
      if (ks >= e.addr && ke <= end) insert_into(top, name, ks, ke - 1);
    }
  }
  const add = (rs: readonly resource[]): void => {
    for (const r of rs) { insert_into(top, r.name, r.start, r.end); add(r.children); }
  };
  add(iomem_resources());
  return top;
}

export function iomem_proc_show(): string {
  const root = reader_capable(CAP_SYS_ADMIN);
  let s = '';
  const walk = (rs: readonly resource[], depth: number): void => {
    for (const r of rs) { s += line(depth, r.start, r.end + 1, r.name, root); walk(r.children, depth + 1); }
  };
  walk(iomem_tree(), 0);
  return s;
}

export function proc_iomem_init(): void { proc_create('/proc/iomem', iomem_proc_show); }
