/**
 * setup_arch() (Linux arch/x86/kernel/setup.c), the architecture's part of boot on the
 * boot CPU, in this order:
 *   1. early CPU identification of the boot CPU (early_cpu_init, first in setup_arch):
 *      capabilities, address sizes, topology and detect_tme(), which publishes the MKTME
 *      KeyID layout to mm (or disables it). Its messages come before the e820 print, as
 *      they do since 2024's detect_tme_early() (Paolo Bonzini's "x86/cpu: Detect TME
 *      early", called from early_init_intel: the MTRR mask must see the reduced
 *      MAXPHYADDR); before it they came late, from init_intel;
 *   2. the firmware memory map (e820) and its print;
 *   3. init_hypervisor_platform() (CPUID's hypervisor bit and signature leaf);
 *   4. memblock from e820 and the SRAT-like affinity, honouring mem=;
 *   5. init_mem_mapping(): the kernel page tables (a direct map per KeyID), paging on.
 */
import type { BootParams } from '../hw/isa.js';
import { mktme_mm_init, mktme_noflush } from '../mm/mktme.js';
import { init_mem_mapping } from '../mm/init.js';
import { init_cpu_to_node } from '../mm/numa.js';
import { memblock_setup } from '../../../mm/memblock.js';
import { cpu_common_init, identify_cpu, type cpuinfo_x86 } from './cpu/common.js';
import { init_intel, tme_boot_cpu_done, tme_init } from './cpu/intel.js';
import { e820__mem_limit, e820__memory_setup } from './e820.js';
import { init_hypervisor_platform } from './cpu/hypervisor.js';

/** Identify the boot CPU (early_cpu_init + identify_boot_cpu, merged). */
export function identify_boot_cpu(): cpuinfo_x86 {
  mktme_mm_init();
  tme_init();
  cpu_common_init(init_intel);
  const c = identify_cpu();
  tme_boot_cpu_done();
  mktme_noflush(true);
  return c;
}

export function setup_arch(bp: BootParams): void {
  identify_boot_cpu();
  e820__memory_setup(bp.e820);
  init_cpu_to_node(bp.cpuNode);
  init_hypervisor_platform();
  memblock_setup(bp.e820, bp.memAffinity, e820__mem_limit());
  init_mem_mapping();
}
