/**
 * KVM's kernel-side objects (Linux include/linux/kvm_host.h, arch/x86/include/asm/kvm_host.h):
 * the VM (struct kvm) with its memslots and EPT, and the vCPU (struct kvm_vcpu).
 */
import type { kvm_cpuid_entry2, kvm_run } from '../uapi/linux/kvm.js';
import type { mm_struct } from '../../mm/vma.js';
import type { mmu_notifier } from '../../mm/mmu_notifier.js';

export const KVM_MAX_VCPUS = 8;
/** KVM_USER_MEM_SLOTS (Linux: 32767 on x86; this tree keeps the table small). */
export const KVM_USER_MEM_SLOTS = 32;

export interface kvm_memory_slot {
  id: number;
  base_gfn: number;
  npages: number;
  userspace_addr: number;
  flags: number;
}

export interface kvm_arch {
  /** PFN of the EPT PML4 page (KeyID 0), and the EPTP built from it. */
  ept_root_pfn: number;
  eptp: number;
  /** EPT table pages in use (root included). */
  ept_pages: number;
}

export interface kvm {
  mm: mm_struct;
  memslots: Map<number, kvm_memory_slot>;
  vcpus: kvm_vcpu[];
  /** References: the VM fd and one per vCPU (kvm_get_kvm/kvm_put_kvm). */
  users_count: number;
  arch: kvm_arch;
  mmu_notifier: mmu_notifier;
  /** Statistics: EPT violations handled, leaf entries zapped, remote TLB flushes. */
  stat: { ept_faults: number; zapped: number; remote_tlb_flush: number; mmio_exits: number };
}

export interface kvm_vcpu_arch {
  /** PA of the VMCS page (KeyID 0) and of the MSR bitmap page. */
  vmcs_pa: number;
  msr_bitmap_pa: number;
  vpid: number;
  launched: boolean;
  /** Entries from KVM_SET_CPUID2, or null for KVM_GET_SUPPORTED_CPUID's. */
  cpuid_entries: kvm_cpuid_entry2[] | null;
  /** Vectors queued by KVM_INTERRUPT, delivered when the guest halts. */
  pending_irqs: number[];
}

export interface kvm_vcpu {
  kvm: kvm;
  vcpu_id: number;
  /** The CPU whose VMCS pointer holds our VMCS, or -1 (VMCLEARed). */
  cpu: number;
  arch: kvm_vcpu_arch;
  /** During KVM_RUN: the VMM's kvm_run record; and the last one it passed (for IPIs). */
  run: kvm_run | null;
  last_run: kvm_run | null;
  /** KVM_RUN's result when an exit cannot go on (-EFAULT ...), else 0. */
  run_error: number;
  /** Exit to report when KVM_RUN returns after the guest was shut down by KVM. */
  shutdown_exit: number;
  stat: { exits: number; halt_exits: number; io_exits: number; cpuid_exits: number };
}
