/**
 * Running under a hypervisor (Linux arch/x86/kernel/cpu/hypervisor.c and kvm.c's
 * kvm_detect): the kernel learns at run time that it is a guest, from CPUID alone, as
 * Linux does. CPUID.1:ECX[31] is the "hypervisor" bit (reserved for that use; real
 * CPUs return 0), and leaf 0x40000000 returns the hypervisor's signature in EBX, ECX,
 * EDX ("KVMKVMKVM\0\0\0" for KVM, Documentation/virt/kvm/x86/cpuid.rst) and its highest
 * leaf in EAX.
 *
 * Nothing else in the kernel special-cases a guest: what differs (no TME/PCONFIG in
 * CPUID, #GP on the TME MSRs, the full MAXPHYADDR, a small e820) comes from what the
 * virtual CPU and the VMM's firmware view report, and the same code paths as on any
 * machine without MKTME handle it.
 */
import { cpuid } from '../../include/asm/processor.js';
import { X86_FEATURE_HYPERVISOR } from '../../include/asm/cpufeatures.js';
import { pr_info } from '../../../../kernel/printk.js';
import { boot_cpu_has } from './common.js';

/** enum x86_hypervisor_type (asm/hypervisor.h), the types this kernel knows. */
export const X86_HYPER_NATIVE = 0;
export const X86_HYPER_KVM = 5;

export const KVM_CPUID_SIGNATURE = 0x40000000;
const KVM_SIGNATURE = 'KVMKVMKVM\0\0\0';

interface hypervisor_x86 { name: string; type: number; detect(): boolean }

/** The 12 signature bytes of a hypervisor leaf: EBX, ECX, EDX, little-endian. */
function signature(leaf: number): string {
  const r = cpuid(leaf);
  let s = '';
  for (const reg of [r.ebx, r.ecx, r.edx]) {
    for (let i = 0; i < 4; i++) s += String.fromCharCode((reg >>> (8 * i)) & 0xff);
  }
  return s;
}

/** kvm_cpuid_base / kvm_detect: the KVM signature at leaf 0x40000000. */
const x86_hyper_kvm: hypervisor_x86 = {
  name: 'KVM',
  type: X86_HYPER_KVM,
  detect: () => signature(KVM_CPUID_SIGNATURE) === KVM_SIGNATURE,
};

const hypervisors: readonly hypervisor_x86[] = [x86_hyper_kvm];

let x86_hyper_type = X86_HYPER_NATIVE;

/**
 * init_hypervisor_platform: after the boot CPU's capabilities are known. Without the
 * hypervisor bit the kernel is native and leaf 0x40000000 is not even read (on bare
 * metal it returns the highest basic leaf's data).
 */
export function init_hypervisor_platform(): void {
  x86_hyper_type = X86_HYPER_NATIVE;
  if (!boot_cpu_has(X86_FEATURE_HYPERVISOR)) return;
  for (const h of hypervisors) {
    if (h.detect()) {
      x86_hyper_type = h.type;
      pr_info(`Hypervisor detected: ${h.name}`);
      return;
    }
  }
}

/** hypervisor_is_type(X86_HYPER_...). */
export function hypervisor_is_type(type: number): boolean { return x86_hyper_type === type; }
