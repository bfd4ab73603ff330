/**
 * The VMX instructions as KVM issues them (Linux arch/x86/kvm/vmx/vmx_ops.h): thin
 * wrappers over the current CPU's instruction surface, with Linux's error reports for
 * a VMfail (vmwrite_error, vmclear_error, vmptrld_error, invept_error).
 */
import { VMX_SUCCEED, VM_INSTRUCTION_ERROR, type GuestRegs, type VmxPendingAccess } from '../../hw/isa.js';
import { this_cpu } from '../../include/asm/processor.js';
import { pr_err } from '../../../../kernel/printk.js';

function hex(n: number): string { return '0x' + n.toString(16); }

export function vmcs_read(field: number): number { return this_cpu().vmread(field); }

export function vmcs_write(field: number, value: number): void {
  const r = this_cpu().vmwrite(field, value);
  if (r !== VMX_SUCCEED) {
    pr_err(`kvm: vmwrite failed: field=${hex(field)} val=${hex(value)} err=${r < 0 ? r : vmcs_read(VM_INSTRUCTION_ERROR)}`);
  }
}

export function vmcs_set_bits(field: number, mask: number): void { vmcs_write(field, (vmcs_read(field) | mask) >>> 0); }
export function vmcs_clear_bits(field: number, mask: number): void { vmcs_write(field, (vmcs_read(field) & ~mask) >>> 0); }

export function vmcs_clear(pa: number): number {
  const r = this_cpu().vmclear(pa);
  if (r !== VMX_SUCCEED) pr_err(`kvm: vmclear failed: ${hex(pa)} err=${r}`);
  return r;
}

export function vmcs_load(pa: number): number {
  const r = this_cpu().vmptrld(pa);
  if (r !== VMX_SUCCEED) pr_err(`kvm: vmptrld failed: ${hex(pa)} err=${r}`);
  return r;
}

export function vmcs_current(): number { return this_cpu().vmptrst(); }

export function __invept(ext: number, eptp: number): void {
  const r = this_cpu().invept(ext, eptp);
  if (r !== VMX_SUCCEED) pr_err(`kvm: invept failed: ext=${ext} eptp=${hex(eptp)}`);
}

export function cpu_vmxon(pa: number): number { return this_cpu().vmxon(pa); }
export function cpu_vmxoff(): number { return this_cpu().vmxoff(); }
/** __vmx_vcpu_run: VMLAUNCH or VMRESUME; the VMfail code, or 0 after a VM exit. */
export function __vmx_vcpu_run(launched: boolean): number {
  return launched ? this_cpu().vmresume() : this_cpu().vmlaunch();
}
export function vmx_guest_regs(): GuestRegs { return this_cpu().vmxGuestRegs(); }
export function vmx_pending_access(): VmxPendingAccess | null { return this_cpu().vmxPendingAccess(); }
