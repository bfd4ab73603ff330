/**
 * KVM's x86 core (Linux arch/x86/kvm/x86.c): the KVM_RUN loop, and the emulation that
 * does not depend on VMX: HLT, port I/O and MMIO exits to user space, MSRs, exception
 * and interrupt injection. The VMX backend registers its operations as kvm_x86_ops.
 *
 * Exits to user space. An exit at the end of an entry (the guest's outermost halt, a
 * shutdown) makes KVM_RUN return. An exit in the middle of a guest operation (an OUT of
 * the guest's serial driver, an MMIO load, a HLT inside a routine) is handed to the
 * VMM's `kvm_run.handler`; its return is "KVM_RUN again" and the guest's instruction
 * completes with what the VMM left in kvm_run (IN data, MMIO read data).
 *
 * Interrupts (KVM_INTERRUPT): queued on the vCPU and injected when the guest halts: at
 * its outermost halt (KVM_RUN re-enters with the vector) or at a HLT exit. The guest's
 * interrupt window is its halts (no RFLAGS.IF model).
 */
import {
  GUEST_ACTIVITY_HLT, GUEST_ACTIVITY_SHUTDOWN, GUEST_ACTIVITY_STATE, INTR_INFO_DELIVER_CODE_MASK,
  INTR_INFO_VALID_MASK, INTR_TYPE_EXT_INTR, INTR_TYPE_HARD_EXCEPTION, IO_QUAL_IN, VM_ENTRY_EXCEPTION_ERROR_CODE,
  VM_ENTRY_INTR_INFO_FIELD, VM_EXIT_REASON, VM_INSTRUCTION_ERROR, EXIT_REASON_HLT, EXIT_REASON_TRIPLE_FAULT,
  VMX_EXIT_REASONS_FAILED_VMENTRY, X86_TRAP_GP,
} from '../hw/isa.js';
import { rdtsc, smp_processor_id } from '../include/asm/processor.js';
import {
  APIC_DEFAULT_PHYS_BASE, MSR_IA32_APICBASE, MSR_IA32_APICBASE_BSP, MSR_IA32_APICBASE_ENABLE, MSR_IA32_APICBASE_EXTD,
  MSR_IA32_TSC, MSR_X2APIC_ICR, MSR_X2APIC_ID,
} from '../include/asm/msr-index.js';
import {
  KVM_EXIT_FAIL_ENTRY, KVM_EXIT_HLT, KVM_EXIT_INTERNAL_ERROR, KVM_EXIT_IO, KVM_EXIT_IO_IN, KVM_EXIT_IO_OUT,
  KVM_EXIT_MMIO, KVM_EXIT_SHUTDOWN, KVM_INTERNAL_ERROR_EMULATION, KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON,
  type kvm_run,
} from '../../../include/uapi/linux/kvm.js';
import type { kvm_vcpu } from '../../../include/linux/kvm_host.js';
import { EBUSY, EIO } from '../../../kernel/errno.js';
import { current } from '../../../kernel/sched.js';
import { vmcs_read, vmcs_write, vmx_guest_regs, vmx_pending_access } from './vmx/vmx_ops.js';


/** The vendor backend (struct kvm_x86_ops), registered by vmx_init. */
export interface kvm_x86_ops {
  vcpu_create(vcpu: kvm_vcpu): number;
  vcpu_free(vcpu: kvm_vcpu): void;
  vcpu_load(vcpu: kvm_vcpu): void;
  /** One VM entry; the VMfail code or 0 after the exit that ended it. */
  vcpu_enter(vcpu: kvm_vcpu): number;
}

let ops: kvm_x86_ops | null = null;

export function kvm_x86_vendor_init(o: kvm_x86_ops): void { ops = o; }
export function kvm_x86(): kvm_x86_ops {
  if (!ops) throw new Error('kvm: no vendor module');
  return ops;
}

/** Hand an exit to the VMM's run-loop body (an exit in the middle of a guest operation). */
function kvm_user_exit(vcpu: kvm_vcpu, reason: number): void {
  const run = vcpu.run!;
  run.exit_reason = reason;
  run.handler?.(run);
}

/** Stop the guest: it unwinds, and KVM_RUN reports vcpu.shutdown_exit (or SHUTDOWN). */
export function kvm_vcpu_shutdown(_vcpu: kvm_vcpu): void {
  vmcs_write(GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_SHUTDOWN);
}

export function kvm_internal_error(vcpu: kvm_vcpu, reason: number, suberror = KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON): void {
  const run = vcpu.run!;
  run.internal = { suberror, data: [reason] };
  vcpu.shutdown_exit = KVM_EXIT_INTERNAL_ERROR;
  kvm_vcpu_shutdown(vcpu);
}

/** kvm_queue_exception(_e): the guest instruction raises `vector` on VM entry. */
export function kvm_queue_exception(_vcpu: kvm_vcpu, vector: number, error_code?: number): void {
  let info = vector | INTR_TYPE_HARD_EXCEPTION | INTR_INFO_VALID_MASK;
  if (error_code !== undefined) {
    info |= INTR_INFO_DELIVER_CODE_MASK;
    vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, error_code);
  }
  vmcs_write(VM_ENTRY_INTR_INFO_FIELD, info >>> 0);
}

function inject_pending_irq(vcpu: kvm_vcpu): boolean {
  const v = vcpu.arch.pending_irqs.shift();
  if (v === undefined) return false;
  vmcs_write(VM_ENTRY_INTR_INFO_FIELD, (v | INTR_TYPE_EXT_INTR | INTR_INFO_VALID_MASK) >>> 0);
  return true;
}

/** kvm_emulate_halt: an interrupt waiting is injected; else the VMM hears KVM_EXIT_HLT. */
export function kvm_emulate_halt(vcpu: kvm_vcpu): void {
  vcpu.stat.halt_exits++;
  if (inject_pending_irq(vcpu)) return;
  kvm_user_exit(vcpu, KVM_EXIT_HLT);
  inject_pending_irq(vcpu);
}

/** kvm_fast_pio: the I/O exit as KVM_EXIT_IO; an IN takes its value from kvm_run.io.data. */
export function kvm_fast_pio(vcpu: kvm_vcpu, qual: number): void {
  vcpu.stat.io_exits++;
  const size = (qual & 7) + 1;
  const input = (qual & IO_QUAL_IN) !== 0;
  const port = Math.floor(qual / 65536) & 0xffff;
  const regs = vmx_guest_regs();
  const data = new Uint8Array(size);
  if (input) data.fill(0xff);
  else for (let i = 0; i < size; i++) data[i] = Math.floor(regs.rax / 2 ** (8 * i)) & 0xff;
  vcpu.run!.io = { direction: input ? KVM_EXIT_IO_IN : KVM_EXIT_IO_OUT, size, port, count: 1, data };
  kvm_user_exit(vcpu, KVM_EXIT_IO);
  if (input) {
    const d = vcpu.run!.io.data;
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + ((d instanceof Uint8Array ? d[i] : 0xff) & 0xff);
    regs.rax = v;
  }
}

/** The MSRs KVM emulates for the guest (kvm_get_msr_common, the x2APIC); null: #GP. */
function kvm_get_msr(vcpu: kvm_vcpu, msr: number): bigint | null {
  if (msr === MSR_IA32_TSC) return BigInt(Math.floor(rdtsc()));
  if (msr === MSR_IA32_APICBASE) {
    return BigInt(APIC_DEFAULT_PHYS_BASE + MSR_IA32_APICBASE_ENABLE + MSR_IA32_APICBASE_EXTD +
      (vcpu.vcpu_id === 0 ? MSR_IA32_APICBASE_BSP : 0));
  }
  if (msr === MSR_X2APIC_ID) return BigInt(vcpu.vcpu_id);
  return null;
}

/**
 * An IPI through the x2APIC ICR (kvm_x2apic_icr_write, fixed delivery mode, physical
 * destination in bits 63:32, vector in 7:0): the vector is queued on the target vCPU,
 * which then runs (kvm_vcpu_kick) on this CPU until its outermost halt, before the
 * sender's WRMSR completes. So an IPI is synchronous here, which is what this kernel's
 * smp_call_function_single expects. A target that is already in KVM_RUN (further out on
 * the stack) takes the vector at its next halt. Unknown destinations are dropped.
 */
function kvm_x2apic_icr_write(vcpu: kvm_vcpu, value: bigint): void {
  const vector = Number(value & 0xffn);
  const dest = Number(value >> 32n);
  const target = vcpu.kvm.vcpus.find((v) => v.vcpu_id === dest);
  if (!target || vector < 16) return;
  target.arch.pending_irqs.push(vector);
  if (target.run) return;
  const run = target.last_run ?? vcpu.run!;
  const r = kvm_arch_vcpu_ioctl_run(target, run);
  kvm_x86().vcpu_load(vcpu);
  if (r < 0) vcpu.run_error = r;
}

/** kvm_emulate_rdmsr: an MSR KVM does not emulate is #GP in the guest (ignore_msrs=0),
 *  which is what a guest reading IA32_TME_ACTIVATE (0x982) gets. */
export function kvm_emulate_rdmsr(vcpu: kvm_vcpu): void {
  const regs = vmx_guest_regs();
  const v = kvm_get_msr(vcpu, regs.rcx >>> 0);
  if (v === null) { kvm_queue_exception(vcpu, X86_TRAP_GP, 0); return; }
  regs.rax = Number(v & 0xffffffffn);
  regs.rdx = Number((v >> 32n) & 0xffffffffn);
}

/** kvm_emulate_wrmsr: the x2APIC ICR (an IPI); any other MSR is #GP. */
export function kvm_emulate_wrmsr(vcpu: kvm_vcpu): void {
  const regs = vmx_guest_regs();
  if ((regs.rcx >>> 0) === MSR_X2APIC_ICR) {
    kvm_x2apic_icr_write(vcpu, (BigInt(regs.rdx >>> 0) << 32n) | BigInt(regs.rax >>> 0));
    return;
  }
  kvm_queue_exception(vcpu, X86_TRAP_GP, 0);
}

/** MMIO (emulator_read_emulated/write_emulated): the access goes to the VMM as KVM_EXIT_MMIO. */
export function kvm_emulate_mmio(vcpu: kvm_vcpu, gpa: number): void {
  const acc = vmx_pending_access();
  if (!acc) {
    // A guest page-table walk through MMIO, or an access KVM cannot decode.
    kvm_internal_error(vcpu, 0, KVM_INTERNAL_ERROR_EMULATION);
    return;
  }
  vcpu.kvm.stat.mmio_exits++;
  const data = acc.write ? acc.data.slice() : new Uint8Array(acc.size).fill(0xff);
  vcpu.run!.mmio = { phys_addr: gpa, data, len: acc.size, is_write: acc.write ? 1 : 0 };
  kvm_user_exit(vcpu, KVM_EXIT_MMIO);
  if (acc.write) { acc.complete(); return; }
  const out = new Uint8Array(acc.size).fill(0xff);
  const d = vcpu.run!.mmio.data;
  if (d instanceof Uint8Array) out.set(d.subarray(0, acc.size));
  acc.complete(out);
}

/**
 * KVM_RUN (kvm_arch_vcpu_ioctl_run / vcpu_run): enter the guest until it reaches its
 * outermost halt with nothing to inject (KVM_EXIT_HLT), shuts down, or entry fails.
 * 0 with run.exit_reason set, or -errno.
 */
export function kvm_arch_vcpu_ioctl_run(vcpu: kvm_vcpu, run: kvm_run): number {
  if (vcpu.kvm.mm !== current().mm) return -EIO;
  if (vcpu.run) return -EBUSY;
  const x86 = kvm_x86();
  vcpu.run = run;
  vcpu.last_run = run;
  vcpu.run_error = 0;
  vcpu.shutdown_exit = 0;
  try {
    for (;;) {
      x86.vcpu_load(vcpu);
      const activity = vmcs_read(GUEST_ACTIVITY_STATE);
      if (activity === GUEST_ACTIVITY_SHUTDOWN) { run.exit_reason = KVM_EXIT_SHUTDOWN; return 0; }
      if (activity === GUEST_ACTIVITY_HLT) inject_pending_irq(vcpu);
      const fail = x86.vcpu_enter(vcpu);
      if (fail !== 0) {
        run.exit_reason = KVM_EXIT_FAIL_ENTRY;
        run.fail_entry = { hardware_entry_failure_reason: fail < 0 ? fail : vmcs_read(VM_INSTRUCTION_ERROR), cpu: smp_processor_id() };
        return 0;
      }
      if (vcpu.run_error) return vcpu.run_error;
      const reason = vmcs_read(VM_EXIT_REASON);
      if (reason & VMX_EXIT_REASONS_FAILED_VMENTRY) {
        run.exit_reason = KVM_EXIT_FAIL_ENTRY;
        run.fail_entry = { hardware_entry_failure_reason: reason, cpu: smp_processor_id() };
        return 0;
      }
      if (reason === EXIT_REASON_TRIPLE_FAULT) { run.exit_reason = vcpu.shutdown_exit || KVM_EXIT_SHUTDOWN; return 0; }
      if (reason === EXIT_REASON_HLT) {
        if (vcpu.arch.pending_irqs.length) continue;
        run.exit_reason = KVM_EXIT_HLT;
        return 0;
      }
      run.exit_reason = KVM_EXIT_INTERNAL_ERROR;
      run.internal = { suberror: KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON, data: [reason] };
      return 0;
    }
  } finally {
    vcpu.run = null;
  }
}
