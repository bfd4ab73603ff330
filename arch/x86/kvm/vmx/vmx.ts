/**
 * KVM's VMX backend (Linux arch/x86/kvm/vmx/vmx.c): the VMCS of each vCPU, loading it
 * on a CPU, entering the guest, and the exit handlers (kvm_vmx_exit_handlers).
 *
 * VMCS setup (init_vmcs): HLT exiting, unconditional I/O exiting, MSR bitmaps with
 * every bit set (every RDMSR/WRMSR exits; KVM emulates the few it knows and gives #GP
 * for the rest, TME's 0x981-0x984 included), secondary controls EPT, VPID, unrestricted
 * guest and WBINVD exiting. Secondary bit 27 "enable PCONFIG" stays 0, so PCONFIG in a
 * guest is #UD (KVM never sets it; vmxfeatures.h has no name for it). The VMCS and the
 * MSR bitmap are KeyID-0 pages (see mmu/mmu.ts for why).
 *
 * Exits in the middle of a guest operation arrive at vmx_vmexit (HOST_RIP) and are
 * handled there; the exits that end an entry (the outermost halt, a shutdown, an entry
 * failure) are seen by vmx_vcpu_run after VMLAUNCH/VMRESUME returns.
 */
import {
  CPU_BASED_ACTIVATE_SECONDARY_CONTROLS, CPU_BASED_HLT_EXITING, CPU_BASED_UNCOND_IO_EXITING,
  CPU_BASED_USE_MSR_BITMAPS, CPU_BASED_VM_EXEC_CONTROL, EPT_POINTER, EPT_VIOLATION_ACC_WRITE,
  EXCEPTION_BITMAP, EXIT_QUALIFICATION, EXIT_REASON_CPUID, EXIT_REASON_EPT_MISCONFIG,
  EXIT_REASON_EPT_VIOLATION, EXIT_REASON_HLT, EXIT_REASON_IO_INSTRUCTION, EXIT_REASON_MSR_READ,
  EXIT_REASON_MSR_WRITE, EXIT_REASON_PCONFIG, EXIT_REASON_WBINVD, GUEST_ACTIVITY_ACTIVE,
  GUEST_ACTIVITY_STATE, GUEST_CR0, GUEST_CR3, GUEST_IDTR_BASE, GUEST_IDTR_LIMIT, GUEST_PHYSICAL_ADDRESS,
  GUEST_RFLAGS, GUEST_RIP, HOST_CR3, HOST_RIP, MSR_BITMAP, PIN_BASED_VM_EXEC_CONTROL,
  SECONDARY_EXEC_ENABLE_EPT, SECONDARY_EXEC_ENABLE_VPID, SECONDARY_EXEC_UNRESTRICTED_GUEST,
  SECONDARY_EXEC_WBINVD_EXITING, SECONDARY_VM_EXEC_CONTROL, VIRTUAL_PROCESSOR_ID, VMCS_LINK_POINTER,
  VM_EXIT_REASON, X86_TRAP_UD,
} from '../../hw/isa.js';
import { memset_io, read_cr3, smp_call_function_single, smp_processor_id, this_cpu } from '../../include/asm/processor.js';
import { page_address } from '../../include/asm/page.js';
import { ENOMEM } from '../../../../kernel/errno.js';
import type { kvm_vcpu } from '../../../../include/linux/kvm_host.js';
import { kvm_cpuid } from '../cpuid.js';
import { RET_PF_EMULATE, RET_PF_RETRY, kvm_tdp_page_fault } from '../mmu/mmu.js';
import {
  kvm_emulate_halt, kvm_emulate_mmio, kvm_emulate_rdmsr, kvm_emulate_wrmsr, kvm_fast_pio,
  kvm_internal_error, kvm_queue_exception, kvm_vcpu_shutdown, kvm_x86_vendor_init,
} from '../x86.js';
import { kvm_init } from '../../../../virt/kvm/kvm_main.js';
import { cpu_has_vmx, vmx_enable_reset } from './vmx_enable.js';
import { alloc_vmcs_page, free_vmcs_page } from './vmx_enable.js';
import { __vmx_vcpu_run, vmcs_clear, vmcs_current, vmcs_load, vmcs_read, vmcs_write, vmx_guest_regs } from './vmx_ops.js';

/** The vCPU whose exits this CPU is handling (a stack: a handler may run another vCPU). */
let running: (kvm_vcpu | null)[] = [];
let vmexit_addr = 0;
let vpids = new Set<number>();

/**
 * vmx_init (module_init): on a CPU with VMX, register the backend and /dev/kvm, and
 * vmx_vmexit in the host's text (HOST_RIP of every VMCS). Without VMX (in a guest: KVM
 * hides it) there is no /dev/kvm (kvm_is_vmx_supported fails; quietly, as built in).
 */
export function vmx_init(): number {
  running = [];
  vpids = new Set();
  vmx_enable_reset();
  if (!cpu_has_vmx()) return 0;
  vmexit_addr = this_cpu().registerCode(vmx_vmexit, 'vmx_vmexit');
  kvm_x86_vendor_init({ vcpu_create: vmx_vcpu_create, vcpu_free: vmx_vcpu_free, vcpu_load: vmx_vcpu_load, vcpu_enter: vmx_vcpu_enter });
  return kvm_init();
}

/** allocate_vpid: VPIDs 1.. are unique on the host (0 is the host's own). */
function allocate_vpid(): number {
  let v = 1;
  while (vpids.has(v)) v++;
  vpids.add(v);
  return v;
}

/** init_vmcs: controls, host state and the guest's reset state (paging off). */
function init_vmcs(vcpu: kvm_vcpu): void {
  vmcs_write(PIN_BASED_VM_EXEC_CONTROL, 0);
  vmcs_write(CPU_BASED_VM_EXEC_CONTROL, (CPU_BASED_HLT_EXITING | CPU_BASED_UNCOND_IO_EXITING |
    CPU_BASED_USE_MSR_BITMAPS | CPU_BASED_ACTIVATE_SECONDARY_CONTROLS) >>> 0);
  vmcs_write(SECONDARY_VM_EXEC_CONTROL, SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_ENABLE_VPID |
    SECONDARY_EXEC_UNRESTRICTED_GUEST | SECONDARY_EXEC_WBINVD_EXITING);
  vmcs_write(EXCEPTION_BITMAP, 0);
  vmcs_write(MSR_BITMAP, vcpu.arch.msr_bitmap_pa);
  vmcs_write(EPT_POINTER, vcpu.kvm.arch.eptp);
  vmcs_write(VIRTUAL_PROCESSOR_ID, vcpu.arch.vpid);
  vmcs_write(VMCS_LINK_POINTER, -1);
  vmcs_write(HOST_CR3, read_cr3());
  vmcs_write(HOST_RIP, vmexit_addr);
  vmcs_write(GUEST_CR0, 0);
  vmcs_write(GUEST_CR3, 0);
  vmcs_write(GUEST_IDTR_BASE, 0);
  vmcs_write(GUEST_IDTR_LIMIT, 0);
  vmcs_write(GUEST_RIP, 0);
  vmcs_write(GUEST_RFLAGS, 2);
  vmcs_write(GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
}

/** vmx_vcpu_create: VMCS and MSR bitmap (KeyID 0), VPID, then init_vmcs on this CPU. */
export function vmx_vcpu_create(vcpu: kvm_vcpu): number {
  const vmcs = alloc_vmcs_page();
  if (vmcs < 0) return -ENOMEM;
  const bitmap = alloc_vmcs_page();
  if (bitmap < 0) { free_vmcs_page(vmcs); return -ENOMEM; }
  memset_io(page_address(bitmap / 4096), 0xff, 4096); // intercept every MSR
  vcpu.arch.vmcs_pa = vmcs;
  vcpu.arch.msr_bitmap_pa = bitmap;
  vcpu.arch.vpid = allocate_vpid();
  vmcs_clear(vmcs);
  vmx_vcpu_load(vcpu);
  init_vmcs(vcpu);
  return 0;
}

export function vmx_vcpu_free(vcpu: kvm_vcpu): void {
  if (vcpu.cpu >= 0) smp_call_function_single(vcpu.cpu, () => vmcs_clear(vcpu.arch.vmcs_pa));
  vcpu.cpu = -1;
  free_vmcs_page(vcpu.arch.vmcs_pa);
  free_vmcs_page(vcpu.arch.msr_bitmap_pa);
  vpids.delete(vcpu.arch.vpid);
}

/** vmx_vcpu_load: make the vCPU's VMCS current on this CPU (VMCLEAR it where it was). */
export function vmx_vcpu_load(vcpu: kvm_vcpu): void {
  const cpu = smp_processor_id();
  if (vcpu.cpu !== cpu) {
    if (vcpu.cpu >= 0) smp_call_function_single(vcpu.cpu, () => vmcs_clear(vcpu.arch.vmcs_pa));
    vcpu.arch.launched = false;
    vcpu.cpu = cpu;
  }
  if (vmcs_current() !== vcpu.arch.vmcs_pa) vmcs_load(vcpu.arch.vmcs_pa);
}

/**
 * Enter the guest once: VMLAUNCH or VMRESUME. Returns the VMfail code (non-zero) or 0
 * after the exit that ends the entry; the exits in between went to vmx_vmexit.
 */
export function vmx_vcpu_enter(vcpu: kvm_vcpu): number {
  const cpu = smp_processor_id();
  const saved = running[cpu] ?? null;
  running[cpu] = vcpu;
  try {
    vmcs_write(HOST_CR3, read_cr3());
    const r = __vmx_vcpu_run(vcpu.arch.launched);
    if (r === 0 && !(vmcs_read(VM_EXIT_REASON) & 0x80000000)) vcpu.arch.launched = true;
    return r;
  } finally {
    running[cpu] = saved;
  }
}

/** HOST_RIP: an exit in the middle of a guest operation, on this CPU. */
function vmx_vmexit(): void {
  const vcpu = running[smp_processor_id()];
  if (vcpu) vmx_handle_exit(vcpu);
}

type exit_handler = (vcpu: kvm_vcpu, qual: number) => void;

function handle_cpuid(vcpu: kvm_vcpu): void {
  vcpu.stat.cpuid_exits++;
  const regs = vmx_guest_regs();
  const r = kvm_cpuid(vcpu, regs.rax % 4294967296, regs.rcx % 4294967296);
  regs.rax = r.eax; regs.rbx = r.ebx; regs.rcx = r.ecx; regs.rdx = r.edx;
}

function handle_ept_violation(vcpu: kvm_vcpu, qual: number): void {
  const gpa = vmcs_read(GUEST_PHYSICAL_ADDRESS);
  const r = kvm_tdp_page_fault(vcpu.kvm, gpa, (qual & EPT_VIOLATION_ACC_WRITE) !== 0);
  if (r === RET_PF_RETRY) return;
  if (r === RET_PF_EMULATE) { kvm_emulate_mmio(vcpu, gpa); return; }
  vcpu.run_error = r; // -EFAULT/-ENOMEM: KVM_RUN fails, as hva_to_pfn errors do in Linux
  kvm_vcpu_shutdown(vcpu);
}

/** handle_ept_misconfig: KVM's own entries are never misconfigured; an entry root set
 *  by hand is treated as MMIO, KVM's fast-MMIO path. */
function handle_ept_misconfig(vcpu: kvm_vcpu): void {
  kvm_emulate_mmio(vcpu, vmcs_read(GUEST_PHYSICAL_ADDRESS));
}

/** kvm_emulate_wbinvd: without non-coherent DMA there is nothing to write back for the
 *  guest (need_emulate_wbinvd is false), so the exit is skipped. */
function handle_wbinvd(): void { /* nothing: caches are coherent for the guest */ }

/** PCONFIG cannot exit with "enable PCONFIG" clear; if it ever does, the guest gets #UD. */
function handle_pconfig(vcpu: kvm_vcpu): void { kvm_queue_exception(vcpu, X86_TRAP_UD); }

const kvm_vmx_exit_handlers: Record<number, exit_handler> = {
  [EXIT_REASON_CPUID]: handle_cpuid,
  [EXIT_REASON_HLT]: kvm_emulate_halt,
  [EXIT_REASON_IO_INSTRUCTION]: kvm_fast_pio,
  [EXIT_REASON_MSR_READ]: kvm_emulate_rdmsr,
  [EXIT_REASON_MSR_WRITE]: kvm_emulate_wrmsr,
  [EXIT_REASON_EPT_VIOLATION]: handle_ept_violation,
  [EXIT_REASON_EPT_MISCONFIG]: handle_ept_misconfig,
  [EXIT_REASON_WBINVD]: handle_wbinvd,
  [EXIT_REASON_PCONFIG]: handle_pconfig,
};

/** vmx_handle_exit: dispatch on the basic exit reason, then make our VMCS current again
 *  (a user-space handler may have run another vCPU on this CPU). */
export function vmx_handle_exit(vcpu: kvm_vcpu): void {
  vcpu.stat.exits++;
  const reason = vmcs_read(VM_EXIT_REASON) & 0xffff;
  const qual = vmcs_read(EXIT_QUALIFICATION);
  const h = kvm_vmx_exit_handlers[reason];
  if (h) h(vcpu, qual);
  else kvm_internal_error(vcpu, reason);
  vmx_vcpu_load(vcpu);
}

