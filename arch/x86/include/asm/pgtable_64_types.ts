/**
 * The x86-64 kernel address space layout with 4-level paging (Linux
 * arch/x86/include/asm/pgtable_64_types.h, Documentation/arch/x86/x86_64/mm.rst):
 * vmalloc/ioremap space is 32 TiB from 0xffffc90000000000. This kernel maps nothing
 * there yet; /proc/meminfo reports the size as Linux does.
 */
export const VMALLOC_SIZE_TB = 32n;
export const VMALLOC_START = 0xffffc90000000000n;
export const VMALLOC_END = VMALLOC_START + (VMALLOC_SIZE_TB << 40n) - 1n;
