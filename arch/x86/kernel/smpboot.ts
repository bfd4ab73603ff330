/**
 * Bringing up the other CPUs and the CPU topology (Linux arch/x86/kernel/smpboot.c,
 * kernel/smp.c, asm/topology.h): which CPUs are online, their packages and nodes, one
 * lead CPU per package (where package-scoped instructions such as PCONFIG and WBINVD
 * run), and the boot messages:
 *
 *   smp: Bringing up secondary CPUs ...
 *   smpboot: x86: Booting SMP configuration:
 *   .... node  #0, CPUs:      #1
 *   .... node  #1, CPUs:   #2 #3
 *   smp: Brought up 2 nodes, 4 CPUs
 *   smpboot: Total of 4 processors activated (16000.00 BogoMIPS)
 *
 * Each AP loads the kernel page tables, then identifies itself (detect_tme runs there).
 * An AP whose bring-up faults stays offline ("do_boot_cpu failed"), as in Linux.
 *
 * The board's CPUs are handed to the kernel at boot. A guest's APs are only listed (the
 * MP table): the VMM points each one at secondary_startup_64 (head64.ts), and the AP
 * runs it when the first IPI reaches it (do_boot_cpu's call): start_secondary records
 * its handle by its APIC ID and loads the IDT, then the IPI is delivered and the AP
 * runs the bring-up call like any other (arch/x86/kernel/smp.ts).
 */
import { Fault, type X86Cpu } from '../hw/isa.js';
import { SmpCallError, nr_cpu_ids, on_this_cpu, set_cpu_present, smp_call_function_single } from '../include/asm/processor.js';
import { load_current_idt } from './idt.js';
import { native_smp_prepare_cpus } from './smp.js';
import { load_kernel_pgtable } from '../mm/init.js';
import { cpu_to_node } from '../mm/numa.js';
import { pr_err, pr_info } from '../../../kernel/printk.js';
import { cpu_data, cpu_identified, HZ, identify_cpu, type cpuinfo_x86 } from './cpu/common.js';

let online: boolean[] = [];

/** Boot: only the boot CPU is online. */
export function smp_prepare_boot_cpu(): void {
  online = new Array(nr_cpu_ids()).fill(false);
  online[0] = true;
}

/** Online and identified (a CPU whose bring-up died half-way counts as offline). */
export function cpu_online(cpu: number): boolean { return online[cpu] === true && cpu_identified(cpu); }
export function online_cpus(): number[] { return online.flatMap((_, i) => (cpu_online(i) ? [i] : [])); }

/** topology_physical_package_id(). */
export function topology_physical_package_id(cpu: number): number { return cpu_data(cpu).phys_proc_id; }

/** Online CPUs in `cpu`'s package (topology_core_cpumask). */
export function topology_core_cpus(cpu: number): number[] {
  const pkg = topology_physical_package_id(cpu);
  return online_cpus().filter((c) => cpu_data(c).phys_proc_id === pkg);
}

/**
 * One online CPU per package (the first one), ordered by package id: where the MKTME
 * key service runs PCONFIG (mktme_leadcpus) and where package caches are flushed.
 */
export function package_lead_cpus(): { pkg: number; cpu: number }[] {
  const seen = new Map<number, number>();
  for (const c of online_cpus()) {
    const pkg = topology_physical_package_id(c);
    if (!seen.has(pkg)) seen.set(pkg, c);
  }
  return [...seen.entries()].sort((a, b) => a[0] - b[0]).map(([pkg, cpu]) => ({ pkg, cpu }));
}

/** Set booted_cores on every identified CPU (set_cpu_sibling_map). */
function update_sibling_info(): void {
  for (const c of online_cpus()) cpu_data(c).booted_cores = topology_core_cpus(c).length;
}

function num_digits(n: number): number { return String(n).length; }

function bogomips(lpj: number): string {
  const whole = Math.floor(lpj / (500000 / HZ));
  const frac = Math.floor(lpj / (5000 / HZ)) % 100;
  return `${whole}.${String(frac).padStart(2, '0')}`;
}

/**
 * start_secondary: an AP's first code, with paging off and no IDT. It finds out which
 * CPU it is (its APIC ID), turns paging on with the kernel's tables (what
 * trampoline_64.S does) and loads the IDT, so that the IPI waiting for it can be
 * delivered; the rest of its bring-up is do_boot_cpu's call. An AP the MP table does
 * not list stays parked (returns at once).
 */
export function start_secondary(handle: X86Cpu): void {
  const cpu = set_cpu_present(handle);
  if (cpu < 0) return;
  on_this_cpu(cpu, () => {
    load_kernel_pgtable(); // the trampoline's paging: the IDT is at a kernel address
    load_current_idt();
  });
}

/** Bring one AP up: kernel page tables, then identify (detect_tme). */
function do_boot_cpu(cpu: number): boolean {
  try {
    smp_call_function_single(cpu, () => {
      load_kernel_pgtable();
      identify_cpu();
    });
    return true;
  } catch (e) {
    if (!(e instanceof Fault) && !(e instanceof SmpCallError)) throw e;
    pr_err(`smpboot: do_boot_cpu failed(-1) to wakeup CPU#${cpu}: ${e instanceof Fault ? e.toString() : e.message}`);
    return false;
  }
}

/** smp_init(): bring up every other CPU, announcing them per node (announce_cpu). */
export function smp_init(): void {
  const n = nr_cpu_ids();
  const err = native_smp_prepare_cpus();
  if (err) pr_err(`smpboot: cannot set up IPIs (${err}): the APs stay offline`);
  update_sibling_info();
  pr_info('smp: Bringing up secondary CPUs ...');
  if (n > 1) {
    const width = num_digits(n) + 1;
    const node_width = num_digits(Math.max(...Array.from({ length: n }, (_, c) => cpu_to_node(c))) + 1) + 1;
    let line: string | null = null;
    let current_node = -1;
    let first = true;
    pr_info('smpboot: x86: Booting SMP configuration:');
    for (let cpu = 1; cpu < n; cpu++) {
      const node = cpu_to_node(cpu);
      if (node !== current_node) {
        if (line !== null) pr_info(line);
        current_node = node;
        line = `.... node ${' '.repeat(Math.max(1, node_width - num_digits(node)))}#${node}, CPUs:  `;
      }
      if (first) line += ' '.repeat(width + 1); // padding for the BSP
      first = false;
      if (!err && do_boot_cpu(cpu)) {
        online[cpu] = true;
        line += `${' '.repeat(Math.max(1, width - num_digits(cpu)))}#${cpu}`;
      }
    }
    if (line !== null) pr_info(line);
  }
  update_sibling_info();

  const cpus = online_cpus();
  const nodes = new Set(cpus.map(cpu_to_node)).size;
  pr_info(`smp: Brought up ${nodes} node${nodes > 1 ? 's' : ''}, ${cpus.length} CPU${cpus.length > 1 ? 's' : ''}`);
  const lpj = cpus.filter(cpu_identified).reduce((sum, c) => sum + cpu_data(c).loops_per_jiffy, 0);
  pr_info(`smpboot: Total of ${cpus.length} processors activated (${bogomips(lpj)} BogoMIPS)`);
}

/** The cpuinfo of every online CPU (for /proc/cpuinfo). */
export function online_cpu_data(): cpuinfo_x86[] { return online_cpus().map(cpu_data); }
