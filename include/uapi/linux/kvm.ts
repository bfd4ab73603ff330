/**
 * KVM's user-space API (Linux include/uapi/linux/kvm.h, arch/x86/include/uapi/asm/kvm.h;
 * Documentation/virt/kvm/api.rst): ioctl numbers, exit reasons and the structures.
 *
 * In this tree an ioctl argument is a typed object standing in for the user pointer,
 * and the `kvm_run` record a VMM would mmap from the vCPU fd is passed to KVM_RUN as
 * its argument. Exits that happen while the guest is in the middle of an operation are
 * handed to `kvm_run.handler` (the VMM's run-loop body); returning from it is calling
 * KVM_RUN again (isa.ts, "Execution model").
 *
 * Tree-specific additions (no Linux counterpart), numbered in KVMIO's unused 0xe0-0xef:
 *  - KVM_REGISTER_CODE (vm): enter a guest image routine into the VM's text; returns its
 *    code address (the stand-in for copying an image into guest RAM).
 *  - KVM_GET_EPT_ENTRY (vm, CAP_SYS_ADMIN): the EPT leaf mapping a GPA, like pagemap.
 *  - KVM_SET_EPT_ENTRY (vm, CAP_SYS_ADMIN): point a GPA at a host-physical address and
 *    KeyID chosen by root (threat demonstrations only).
 */
import type { Routine } from '../../../arch/x86/hw/isa.js';

export const KVM_API_VERSION = 12;

const KVMIO = 0xae;
const _IOC_WRITE = 1;
const _IOC_READ = 2;
function _IOC(dir: number, nr: number, size: number): number { return ((dir << 30) | (size << 16) | (KVMIO << 8) | nr) >>> 0; }
const _IO = (nr: number): number => _IOC(0, nr, 0);
const _IOR = (nr: number, size: number): number => _IOC(_IOC_READ, nr, size);
const _IOW = (nr: number, size: number): number => _IOC(_IOC_WRITE, nr, size);
const _IOWR = (nr: number, size: number): number => _IOC(_IOC_READ | _IOC_WRITE, nr, size);

/* /dev/kvm */
export const KVM_GET_API_VERSION = _IO(0x00);
export const KVM_CREATE_VM = _IO(0x01);
export const KVM_CHECK_EXTENSION = _IO(0x03);
export const KVM_GET_VCPU_MMAP_SIZE = _IO(0x04);
export const KVM_GET_SUPPORTED_CPUID = _IOWR(0x05, 8);
/* VM */
export const KVM_CREATE_VCPU = _IO(0x41);
export const KVM_SET_USER_MEMORY_REGION = _IOW(0x46, 32);
export const KVM_REGISTER_CODE = _IOW(0xe0, 16);
export const KVM_GET_EPT_ENTRY = _IOWR(0xe1, 32);
export const KVM_SET_EPT_ENTRY = _IOW(0xe2, 32);
/* vCPU */
export const KVM_RUN = _IO(0x80);
export const KVM_GET_REGS = _IOR(0x81, 144);
export const KVM_SET_REGS = _IOW(0x82, 144);
export const KVM_INTERRUPT = _IOW(0x86, 4);
export const KVM_SET_CPUID2 = _IOW(0x90, 8);
export const KVM_GET_CPUID2 = _IOWR(0x91, 8);

/* KVM_CHECK_EXTENSION */
export const KVM_CAP_IRQCHIP = 0;
export const KVM_CAP_USER_MEMORY = 3;
export const KVM_CAP_EXT_CPUID = 7;
export const KVM_CAP_NR_VCPUS = 9;
export const KVM_CAP_NR_MEMSLOTS = 10;
export const KVM_CAP_MAX_VCPUS = 66;

/* kvm_run.exit_reason */
export const KVM_EXIT_UNKNOWN = 0;
export const KVM_EXIT_EXCEPTION = 1;
export const KVM_EXIT_IO = 2;
export const KVM_EXIT_HLT = 5;
export const KVM_EXIT_MMIO = 6;
export const KVM_EXIT_SHUTDOWN = 8;
export const KVM_EXIT_FAIL_ENTRY = 9;
export const KVM_EXIT_INTERNAL_ERROR = 17;
export const KVM_EXIT_IO_IN = 0;
export const KVM_EXIT_IO_OUT = 1;
/* kvm_run.internal.suberror */
export const KVM_INTERNAL_ERROR_EMULATION = 1;
export const KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON = 4;

/* kvm_userspace_memory_region.flags */
export const KVM_MEM_LOG_DIRTY_PAGES = 1 << 0;
export const KVM_MEM_READONLY = 1 << 1;

/* kvm_cpuid_entry2.flags */
export const KVM_CPUID_FLAG_SIGNIFCANT_INDEX = 1 << 0;
/** KVM_MAX_CPUID_ENTRIES */
export const KVM_MAX_CPUID_ENTRIES = 256;

export interface kvm_userspace_memory_region {
  slot: number;
  flags: number;
  guest_phys_addr: number;
  memory_size: number;
  userspace_addr: number;
}

export interface kvm_regs {
  rax: number; rbx: number; rcx: number; rdx: number;
  rsi: number; rdi: number; rsp: number; rbp: number;
  /** A code address (isa.ts): where the vCPU starts, 0 = idle (halted). */
  rip: number;
  rflags: number;
}

export interface kvm_cpuid_entry2 {
  function: number;
  index: number;
  flags: number;
  eax: number; ebx: number; ecx: number; edx: number;
}

export interface kvm_cpuid2 { nent: number; entries: kvm_cpuid_entry2[] }

export interface kvm_interrupt { irq: number }

export interface kvm_run {
  exit_reason: number;
  /** KVM_EXIT_IO: `data` holds size*count bytes (OUT: what the guest wrote; IN: the VMM fills it). */
  io: { direction: number; size: number; port: number; count: number; data: Uint8Array };
  /** KVM_EXIT_MMIO: `data` holds len bytes (write: the guest's; read: the VMM fills it). */
  mmio: { phys_addr: number; data: Uint8Array; len: number; is_write: number };
  fail_entry: { hardware_entry_failure_reason: number; cpu: number };
  internal: { suberror: number; data: number[] };
  /** The VMM's run-loop body for exits in the middle of a guest operation. */
  handler?: (run: kvm_run) => void;
}

/** A zeroed kvm_run record (what mmap of the vCPU fd gives). */
export function kvm_run_alloc(handler?: (run: kvm_run) => void): kvm_run {
  return {
    exit_reason: KVM_EXIT_UNKNOWN,
    io: { direction: 0, size: 0, port: 0, count: 0, data: new Uint8Array(8) },
    mmio: { phys_addr: 0, data: new Uint8Array(8), len: 0, is_write: 0 },
    fail_entry: { hardware_entry_failure_reason: 0, cpu: 0 },
    internal: { suberror: 0, data: [] },
    handler,
  };
}

/** KVM_REGISTER_CODE's argument. */
export interface kvm_code { routine: Routine; name?: string }

/** KVM_GET_EPT_ENTRY / KVM_SET_EPT_ENTRY. `flags` as EPT bits: R 1, W 2, X 4, A 0x100, D 0x200. */
export interface kvm_ept_entry { gpa: number; hpa: number; keyid: number; flags: number; present: boolean }
