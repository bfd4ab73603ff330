/**
 * start_kernel() (Linux init/main.c): the boot sequence on the boot CPU, from the
 * firmware's hand-over to a running system, and the initcall lists.
 *
 *   printk, banner, "Command line:", early parameters (loglevel, quiet, mem=, mktme...)
 *   setup_arch: e820, boot CPU identification (detect_tme), memblock, page tables
 *   unknown parameters, mem_init (buddy allocator)
 *   intel_pconfig_init (Linux: arch_initcall)
 *   smp_init: every AP loads the page tables and identifies itself (detect_tme)
 *   proc_root_init, then the late initcalls (key service, processes, ...)
 *
 * Every subsystem's state is module-level and reset by its init here, so one process
 * can boot kernel after kernel. A fault or error escaping the sequence is a kernel
 * panic: logged, then thrown as KernelPanic to whoever booted us.
 */
import type { BootParams } from '../arch/x86/hw/isa.js';
import { set_cpu_possible } from '../arch/x86/include/asm/processor.js';
import { tsc_init } from '../arch/x86/include/asm/tsc.js';
import { print_cpu_info, boot_cpu_data } from '../arch/x86/kernel/cpu/common.js';
import { intel_pconfig_init } from '../arch/x86/kernel/cpu/intel_pconfig.js';
import { reboot_init, set_system_running } from '../arch/x86/kernel/reboot.js';
import { setup_arch } from '../arch/x86/kernel/setup.js';
import { smp_init, smp_prepare_boot_cpu } from '../arch/x86/kernel/smpboot.js';
import { proc_reset } from '../fs/proc/generic.js';
import { resource_init } from '../kernel/resource.js';
import { syscore_init } from '../drivers/base/syscore.js';
import { proc_root_init } from '../fs/proc/root.js';
import {
  early_param, print_early_param_warnings, print_unknown_bootoptions, setup_boot_params,
} from '../kernel/params.js';
import { EINVAL } from '../kernel/errno.js';
import { kstrtouint } from '../lib/kstrtox.js';
import { pr_emerg, pr_info, pr_notice, pr_warn, printk_init, set_console_loglevel } from '../kernel/printk.js';
import { mem_init } from '../mm/page_alloc.js';
import { init_mktme_keys } from '../kernel/keys/mktme_platform.js';
import { sched_init } from '../kernel/sched.js';
import { create_init_task } from '../kernel/fork.js';
import { mmap_init } from '../mm/mmap.js';
import { mktme_sysfs_init } from '../arch/x86/mm/mktme_sysfs.js';
import { IS_ERR, PTR_ERR } from '../kernel/err.js';
import { proc_pid_init } from '../fs/proc/base.js';
import { acpi_table_init } from '../drivers/acpi/tables.js';
import { genhd_init } from '../drivers/block/genhd.js';
import { bdev_init } from '../fs/block_dev.js';
import { vfio_init } from '../drivers/vfio/vfio.js';
import { vfio_main_init } from '../drivers/vfio/vfio_main.js';
import { virtio_blk_init } from '../drivers/block/virtio_blk.js';
import { iommu_init } from '../drivers/iommu/iommu.js';
import { pci_subsys_init } from '../drivers/pci/probe.js';
import { ioremap_init } from '../arch/x86/mm/ioremap.js';
import { swiotlb_init } from '../kernel/dma/swiotlb.js';
import { KernelPanic, panic_init } from '../kernel/panic.js';
import { dumpstack_init } from '../arch/x86/kernel/dumpstack.js';
import { chrdev_init } from '../fs/char_dev.js';
import { devtmpfs_init } from '../fs/devtmpfs.js';
import { chr_dev_init } from '../drivers/char/mem.js';
import { misc_init } from '../drivers/char/misc.js';
import { vmx_init } from '../arch/x86/kvm/vmx/vmx.js';
import { msr_init } from '../arch/x86/kernel/msr.js';
import { pm_init } from '../kernel/power/suspend.js';
import { idt_init } from '../arch/x86/kernel/idt.js';
import { tty_init } from '../drivers/tty/tty_io.js';
import { serial8250_init } from '../drivers/tty/serial/8250.js';

/** include/linux/printk.h: the levels `quiet` and `debug` select. */
export const CONSOLE_LOGLEVEL_QUIET = 4;
export const CONSOLE_LOGLEVEL_DEBUG = 10;

// The console log level options (init/main.c debug_kernel, quiet_kernel, loglevel);
// printk_init() has set the default before the command line is parsed.
early_param('debug', () => { set_console_loglevel(CONSOLE_LOGLEVEL_DEBUG); return 0; });
early_param('quiet', () => { set_console_loglevel(CONSOLE_LOGLEVEL_QUIET); return 0; });
early_param('loglevel', (val) => {
  const res = { val: 0 };
  if (val === null || kstrtouint(val, 10, res)) return -EINVAL;
  set_console_loglevel(res.val);
  return 0;
});

export const UTS_RELEASE = '6.8.0-mktme';
export const linux_banner =
  `Linux version ${UTS_RELEASE} (mktme@mktme-kernel) (TypeScript 5.9, emulated x86-64) #1 SMP`;

/** A kernel panic: the boot (or a later kernel path) could not go on (kernel/panic.ts). */
export { KernelPanic } from '../kernel/panic.js';

/** An initcall: 0 (or nothing) on success, a negative errno on failure. */
export type initcall_t = () => number | void;

interface Initcall { fn: initcall_t; name: string }

/** Late initcalls registered by subsystems (kept across boots, like an initcall section). */
const late_initcalls: Initcall[] = [];

/**
 * late_initcall(fn): run `fn` at the end of every boot, after procfs, in registration
 * order. Registering the same function twice has no effect.
 */
export function late_initcall(fn: initcall_t, name = fn.name || 'anonymous'): void {
  if (!late_initcalls.some((c) => c.fn === fn)) late_initcalls.push({ fn, name });
}

/**
 * rest_init(): pid 1, init (uid 0), on CPU 0 with a fresh address space (Linux:
 * kernel_thread(kernel_init)). Linux creates it before kernel_init runs the initcalls;
 * here its credentials need the key service, so it follows init_mktme_keys.
 */
function rest_init(): number {
  const init = create_init_task();
  return IS_ERR(init) ? PTR_ERR(init) : 0;
}

/**
 * The built-in late initcalls in link order (Linux orders an initcall level by the
 * Makefiles' link order; here the order is this list). Each runs on every boot, before
 * those registered with late_initcall().
 */
const BUILTIN_LATE_INITCALLS: Initcall[] = [
  { fn: mktme_sysfs_init, name: 'mktme_sysfs_init' },
  { fn: misc_init, name: 'misc_init' },
  { fn: chr_dev_init, name: 'chr_dev_init' },
  { fn: msr_init, name: 'msr_init' },
  { fn: vmx_init, name: 'vmx_init' },
  { fn: vfio_main_init, name: 'vfio_main_init' },
  { fn: pm_init, name: 'pm_init' },
  { fn: serial8250_init, name: 'serial8250_init' },
  { fn: init_mktme_keys, name: 'init_mktme_keys' },
  { fn: sched_init, name: 'sched_init' },
  { fn: rest_init, name: 'rest_init' },
  { fn: proc_pid_init, name: 'proc_pid_init' },
];

function do_one_initcall(c: Initcall): void {
  try {
    const ret = c.fn();
    if (typeof ret === 'number' && ret < 0) pr_warn(`initcall ${c.name} returned ${ret}`);
  } catch (e) {
    if (e instanceof KernelPanic) throw e;
    pr_warn(`initcall ${c.name} failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * The subsys/fs/device initcall levels, in Linux's order: PCI enumeration
 * (subsys_initcall pci_subsys_init), the IOMMU (iommu_subsys_init, intel_iommu_init),
 * block devices (genhd_device_init) and their drivers (module_init virtio_blk_init).
 */
const BUILTIN_INITCALLS: Initcall[] = [
  { fn: pci_subsys_init, name: 'pci_subsys_init' },
  { fn: iommu_init, name: 'iommu_init' },
  { fn: () => { genhd_init(); bdev_init(); }, name: 'genhd_device_init' },
  { fn: virtio_blk_init, name: 'virtio_blk_init' },
  { fn: () => { vfio_init(); }, name: 'vfio_init' },
];

function do_late_initcalls(): void {
  for (const c of [...BUILTIN_LATE_INITCALLS, ...late_initcalls]) do_one_initcall(c);
}

let booted = 0;

/** How many kernels this process has booted (1 after the first start_kernel). */
export function boot_count(): number { return booted; }

/**
 * Boot a kernel on the CPUs `bp` describes; `console` receives console lines (without
 * newline), or null for none. Returns when the system is running. Throws KernelPanic.
 */
export function start_kernel(bp: BootParams, console: ((line: string) => void) | null): void {
  set_cpu_possible(bp.cpus, bp.nrCpus);
  tsc_init();
  printk_init(console);
  panic_init();
  dumpstack_init(UTS_RELEASE);
  try {
    proc_reset();
    resource_init();
    syscore_init();
    idt_init();
    tty_init();
    // vfs_caches_init's chrdev_init and driver_init's devtmpfs_init: no drivers, no nodes
    chrdev_init();
    devtmpfs_init();
    reboot_init();
    setup_boot_params(bp.cmdline);

    pr_notice(linux_banner);
    pr_info(`Command line: ${bp.cmdline}`);
    print_early_param_warnings();

    setup_arch(bp);
    smp_prepare_boot_cpu();
    print_unknown_bootoptions();
    swiotlb_init(); // pci_iommu_alloc: the bounce pool from memblock, below 4 GiB
    mem_init();
    acpi_table_init(bp);
    ioremap_init();
    mmap_init();

    intel_pconfig_init();
    print_cpu_info(boot_cpu_data());
    smp_init();

    proc_root_init(linux_banner);
    for (const c of BUILTIN_INITCALLS) do_one_initcall(c);
    do_late_initcalls();
    set_system_running();
    booted++;
  } catch (e) {
    if (e instanceof KernelPanic) throw e;
    const why = e instanceof Error ? e.message || e.name : typeof e === 'object' && e !== null ? String(e) : String(e);
    const msg = `Fatal exception in boot: ${why}`;
    pr_emerg(`Kernel panic - not syncing: ${msg}`);
    throw new KernelPanic(msg);
  }
}
