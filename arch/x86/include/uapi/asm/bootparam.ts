/**
 * The x86 boot protocol as a VMM and the kernel both see it (Linux
 * arch/x86/include/uapi/asm/bootparam.h, Documentation/arch/x86/zero-page.rst), with
 * the addresses kvmtool loads a guest at (x86/include/kvm/boot-protocol.h,
 * x86/kvm.c): the zero page at 0x10000, the command line at 0x20000, and the MP table
 * in the BIOS area (MultiProcessor Specification 1.4 §4: a 16-byte aligned "_MP_"
 * floating pointer in [0xf0000, 0x100000)).
 */
export const BOOT_PARAMS_GPA = 0x10000;
export const BOOT_CMDLINE_GPA = 0x20000;
export const COMMAND_LINE_SIZE = 2048;
export const MPTABLE_GPA = 0xf0000;
export const BIOS_BEGIN = 0xf0000;
export const BIOS_END = 0x100000;

/** struct boot_params offsets. */
export const ZP_ACPI_RSDP_ADDR = 0x070; // __u64 acpi_rsdp_addr (boot protocol 2.14)
export const ZP_E820_ENTRIES = 0x1e8;   // __u8 e820_entries
export const ZP_CMD_LINE_PTR = 0x228;   // hdr.cmd_line_ptr (__u32)
export const ZP_CMDLINE_SIZE = 0x238;   // hdr.cmdline_size (__u32)
export const ZP_E820_TABLE = 0x2d0;     // struct boot_e820_entry e820_table[128]
export const E820_MAX_ENTRIES_ZEROPAGE = 128;
export const BOOT_E820_ENTRY_SIZE = 20;  // { __u64 addr; __u64 size; __u32 type; } packed

/** MP table entry types and CPU flags (MP spec Table 4-3, §4.3.1). */
export const MP_PROCESSOR = 0;
export const CPU_ENABLED = 1;
export const CPU_BOOTPROCESSOR = 2;
