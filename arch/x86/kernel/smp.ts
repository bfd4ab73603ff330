/**
 * Cross-CPU calls through the local APIC (Linux arch/x86/kernel/smp.c,
 * arch/x86/kernel/apic/x2apic_phys.c, asm/irq_vectors.h).
 *
 * The board's CPUs are reached by switching the current CPU (asm/processor.ts). The
 * CPUs the firmware only lists, a guest's APs, are reached the way Linux reaches any
 * CPU: the call goes on the target's call_single_queue and an IPI with
 * CALL_FUNCTION_SINGLE_VECTOR interrupts it; its handler (sysvec_call_function_single)
 * runs the queue. The IPI is a write of the x2APIC interrupt command register
 * (MSR 0x830, SDM Vol. 3A §11.12.9): destination APIC ID in bits 63:32, fixed
 * delivery, physical destination, the vector in bits 7:0. Under KVM that WRMSR exits,
 * and KVM runs the target vCPU before the WRMSR retires (a synchronous IPI), so the
 * caller's wait (csd_lock_wait) is over when the instruction is.
 */
import type { X86Cpu } from '../hw/isa.js';
import {
  cpu_of, cpu_present, flush_smp_call_function_queue, nr_cpu_ids, on_this_cpu, set_send_call_func_single_ipi,
  wrmsrl_safe,
} from '../include/asm/processor.js';
import { alloc_intr_gate } from './idt.js';
import { MSR_X2APIC_ICR } from '../include/asm/msr-index.js';

/** asm/irq_vectors.h. */
export const CALL_FUNCTION_SINGLE_VECTOR = 0xfb;
/** x2APIC interrupt command register (APIC_BASE_MSR + (APIC_ICR >> 4)). */
const APIC_DM_FIXED = 0x0;
const APIC_DEST_PHYSICAL = 0x0;

/** __x2apic_send_IPI_dest: one IPI to the CPU whose APIC ID is `apicid`. */
function x2apic_send_IPI(apicid: number, vector: number): void {
  const icr = (BigInt(apicid) << 32n) | BigInt(APIC_DEST_PHYSICAL | APIC_DM_FIXED | vector);
  if (wrmsrl_safe(MSR_X2APIC_ICR, icr) !== 0) throw new Error(`smp: IPI to APIC ${apicid} raised #GP`);
}

/** native_send_call_func_single_ipi (APIC IDs are CPU numbers: the MP table's order). */
function native_send_call_func_single_ipi(cpu: number): void {
  x2apic_send_IPI(cpu, CALL_FUNCTION_SINGLE_VECTOR);
}

let ipis_received: number[] = [];

/** sysvec_call_function_single: the interrupted CPU runs its queued calls. */
function sysvec_call_function_single(handle: X86Cpu): void {
  const cpu = cpu_of(handle);
  if (cpu < 0) return; // not a CPU of ours (cannot happen: only started APs get IPIs)
  ipis_received[cpu]++;
  on_this_cpu(cpu, flush_smp_call_function_queue);
}

/**
 * native_smp_prepare_cpus: when the firmware lists CPUs it did not hand over, install
 * the IPI gate before the first AP starts. 0 or -errno.
 */
export function native_smp_prepare_cpus(): number {
  ipis_received = new Array<number>(nr_cpu_ids()).fill(0);
  const parked = Array.from({ length: nr_cpu_ids() }, (_, c) => c).some((c) => !cpu_present(c));
  if (!parked) return 0;
  const err = alloc_intr_gate(CALL_FUNCTION_SINGLE_VECTOR, sysvec_call_function_single, 'sysvec_call_function_single');
  if (err) return err;
  set_send_call_func_single_ipi(native_send_call_func_single_ipi);
  return 0;
}

/** The "CAL" row of /proc/interrupts: function-call interrupts per CPU. */
export function call_function_interrupts(): number[] { return ipis_received.slice(); }
