/**
 * The CPU-to-node map (Linux arch/x86/mm/numa.c init_cpu_to_node, x86_cpu_to_node_map,
 * asm/topology.h cpu_to_node): filled once per boot from the firmware's affinity table
 * (the SRAT's processor entries) in setup_arch; everything that asks for a CPU's node
 * asks here.
 */
import { nr_cpu_ids, smp_processor_id } from '../include/asm/processor.js';

let x86_cpu_to_node_map: number[] = [];

/** init_cpu_to_node(): `nodes[cpu]` is each CPU's node from the SRAT (0 when absent). */
export function init_cpu_to_node(nodes: readonly number[]): void {
  x86_cpu_to_node_map = Array.from({ length: nr_cpu_ids() }, (_, i) => nodes[i] ?? 0);
}

export function cpu_to_node(cpu: number): number { return x86_cpu_to_node_map[cpu] ?? 0; }

/** numa_node_id(): the node of the CPU we are running on. */
export function numa_node_id(): number { return cpu_to_node(smp_processor_id()); }
