/**
 * KVM's generic core (Linux virt/kvm/kvm_main.c): /dev/kvm, the VM and vCPU file
 * descriptors and their ioctls, memslots, and the MMU notifier that keeps EPT in step
 * with the VMM's address space. Semantics and errno values follow
 * Documentation/virt/kvm/api.rst; the tree-specific ioctls are described in
 * include/uapi/linux/kvm.ts.
 *
 * /dev/kvm is the misc device 10:232, mode 0660 root:kvm, so an ordinary user gets
 * EACCES from open(2) (the DAC check), as on a distribution kernel.
 */
import { KVM_MINOR, misc_register } from '../../drivers/char/misc.js';
import { KVM_GID } from '../../fs/devtmpfs.js';
import { anon_inode_getfd } from '../../fs/anon_inodes.js';
import type { file_operations } from '../../fs/file.js';
import { fdget } from '../../fs/read_write.js';
import { CAP_SYS_ADMIN } from '../../include/linux/capability.js';
import {
  KVM_MAX_VCPUS, KVM_USER_MEM_SLOTS, type kvm, type kvm_memory_slot, type kvm_vcpu,
} from '../../include/linux/kvm_host.js';
import {
  KVM_API_VERSION, KVM_CAP_EXT_CPUID, KVM_CAP_MAX_VCPUS, KVM_CAP_NR_MEMSLOTS, KVM_CAP_NR_VCPUS,
  KVM_CAP_USER_MEMORY, KVM_CHECK_EXTENSION, KVM_CREATE_VCPU, KVM_CREATE_VM, KVM_GET_API_VERSION,
  KVM_GET_CPUID2, KVM_GET_EPT_ENTRY, KVM_GET_REGS, KVM_GET_SUPPORTED_CPUID, KVM_GET_VCPU_MMAP_SIZE,
  KVM_INTERRUPT, KVM_MAX_CPUID_ENTRIES, KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_READONLY, KVM_REGISTER_CODE,
  KVM_RUN, KVM_SET_CPUID2, KVM_SET_EPT_ENTRY, KVM_SET_REGS, KVM_SET_USER_MEMORY_REGION,
  type kvm_cpuid2, type kvm_regs,
} from '../../include/uapi/linux/kvm.js';
import { capable } from '../../kernel/capability.js';
import { E2BIG, EBUSY, EEXIST, EFAULT, EINVAL, EIO, ENOMEM, ENOTTY, EPERM } from '../../kernel/errno.js';
import { current } from '../../kernel/sched.js';
import { mmu_notifier_register, mmu_notifier_unregister } from '../../mm/mmu_notifier.js';
import { TASK_SIZE } from '../../mm/vma.js';
import { this_cpu } from '../../arch/x86/include/asm/processor.js';
import { GUEST_ACTIVITY_ACTIVE, GUEST_ACTIVITY_STATE, GUEST_RFLAGS, GUEST_RIP } from '../../arch/x86/hw/isa.js';
import { kvm_cpuid_entries_valid, kvm_get_supported_cpuid } from '../../arch/x86/kvm/cpuid.js';
import {
  kvm_flush_remote_tlbs, kvm_mmu_get_leaf, kvm_mmu_init_vm, kvm_mmu_set_leaf, kvm_mmu_uninit_vm, kvm_mmu_zap_all,
  kvm_unmap_gfn_range,
} from '../../arch/x86/kvm/mmu/mmu.js';
import { hardware_disable_all, hardware_enable_all } from '../../arch/x86/kvm/vmx/vmx_enable.js';
import { vmcs_read, vmcs_write, vmx_guest_regs } from '../../arch/x86/kvm/vmx/vmx_ops.js';
import { kvm_arch_vcpu_ioctl_run, kvm_x86 } from '../../arch/x86/kvm/x86.js';
import { PAGE_SIZE } from '../../arch/x86/include/asm/pgtable_types.js';

let vm_count = 0;

const u = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** kvm_init: /dev/kvm appears. */
export function kvm_init(): number {
  vm_count = 0;
  return misc_register({ minor: KVM_MINOR, name: 'kvm', fops: kvm_chardev_ops, mode: 0o660, uid: 0, gid: KVM_GID });
}

/** VMs alive (for tests and `vm list`-style reports). */
export function kvm_vm_count(): number { return vm_count; }

// --- /dev/kvm -----------------------------------------------------------------------------

const kvm_chardev_ops: file_operations = {
  unlocked_ioctl(_f, cmd, arg) { return kvm_dev_ioctl(cmd, arg); },
};

function kvm_dev_ioctl(cmd: number, arg: unknown): number {
  switch (cmd) {
    case KVM_GET_API_VERSION: return arg ? -EINVAL : KVM_API_VERSION;
    case KVM_CREATE_VM: return arg ? -EINVAL : kvm_dev_ioctl_create_vm();
    case KVM_CHECK_EXTENSION: return kvm_vm_ioctl_check_extension(arg);
    case KVM_GET_VCPU_MMAP_SIZE: return arg ? -EINVAL : PAGE_SIZE;
    case KVM_GET_SUPPORTED_CPUID: return kvm_dev_ioctl_get_cpuid(arg);
    default: return -EINVAL;
  }
}

function kvm_vm_ioctl_check_extension(arg: unknown): number {
  switch (arg) {
    case KVM_CAP_USER_MEMORY: case KVM_CAP_EXT_CPUID: return 1;
    case KVM_CAP_NR_VCPUS: case KVM_CAP_MAX_VCPUS: return KVM_MAX_VCPUS;
    case KVM_CAP_NR_MEMSLOTS: return KVM_USER_MEM_SLOTS;
    default: return 0;
  }
}

function cpuid2_arg(arg: unknown): kvm_cpuid2 | null {
  if (!arg || typeof arg !== 'object') return null;
  const c = arg as kvm_cpuid2;
  return u(c.nent) && Array.isArray(c.entries) ? c : null;
}

function kvm_dev_ioctl_get_cpuid(arg: unknown): number {
  const c = cpuid2_arg(arg);
  if (!c) return -EFAULT;
  const entries = kvm_get_supported_cpuid();
  if (c.nent < entries.length) return -E2BIG;
  c.nent = entries.length;
  c.entries = entries;
  return 0;
}

// --- VMs ----------------------------------------------------------------------------------

function kvm_dev_ioctl_create_vm(): number {
  const mm = current().mm;
  if (!mm) return -EINVAL;
  const err = hardware_enable_all();
  if (err) return err;
  const k: kvm = {
    mm, memslots: new Map(), vcpus: [], users_count: 1,
    arch: { ept_root_pfn: -1, eptp: 0, ept_pages: 0 },
    mmu_notifier: { ops: {
      invalidate_range_start: (_mn, _mm, s, e) => kvm_mmu_notifier_invalidate_range_start(k, s, e),
      // kvm_mmu_notifier_release: the VMM's mm is torn down before its fds are closed.
      release: () => kvm_mmu_zap_all(k),
    } },
    stat: { ept_faults: 0, zapped: 0, remote_tlb_flush: 0, mmio_exits: 0 },
  };
  if (kvm_mmu_init_vm(k) < 0) return -ENOMEM;
  mmu_notifier_register(k.mmu_notifier, mm);
  vm_count++;
  const fd = anon_inode_getfd('kvm-vm', kvm_vm_fops, k);
  if (fd < 0) kvm_put_kvm(k);
  return fd;
}

function kvm_put_kvm(k: kvm): void {
  if (--k.users_count > 0) return;
  mmu_notifier_unregister(k.mmu_notifier, k.mm);
  kvm_mmu_uninit_vm(k);
  k.memslots.clear();
  if (--vm_count === 0) hardware_disable_all();
}

/**
 * kvm_mmu_notifier_invalidate_range_start: the VMM's [start, end) is going away or
 * changing protection: zap the EPT leaves of every memslot page in it, then INVEPT on
 * every CPU, all before mm clears its PTEs and frees (and flushes) the pages.
 */
function kvm_mmu_notifier_invalidate_range_start(k: kvm, start: number, end: number): void {
  let flush = false;
  for (const s of k.memslots.values()) {
    const hs = Math.max(start, s.userspace_addr);
    const he = Math.min(end, s.userspace_addr + s.npages * PAGE_SIZE);
    if (hs >= he) continue;
    const g0 = s.base_gfn + Math.floor((hs - s.userspace_addr) / PAGE_SIZE);
    const g1 = s.base_gfn + Math.ceil((he - s.userspace_addr) / PAGE_SIZE);
    flush = kvm_unmap_gfn_range(k, g0, g1) || flush;
  }
  if (flush) kvm_flush_remote_tlbs(k);
}

/** __kvm_set_memory_region: add, move or delete (memory_size 0) slot `slot`. */
function kvm_set_memory_region(k: kvm, arg: unknown): number {
  if (!arg || typeof arg !== 'object') return -EFAULT;
  const m = arg as Record<string, unknown>;
  const { slot, flags, guest_phys_addr: gpa, memory_size: size, userspace_addr: hva } = m;
  if (!u(slot) || !u(flags) || !u(gpa) || !u(size) || !u(hva)) return -EINVAL;
  if (flags & ~(KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY)) return -EINVAL;
  if (slot >= KVM_USER_MEM_SLOTS) return -EINVAL;
  if (size % PAGE_SIZE || gpa % PAGE_SIZE || hva % PAGE_SIZE) return -EINVAL;
  if (hva + size > TASK_SIZE || gpa + size > 2 ** 48) return -EINVAL;
  const old = k.memslots.get(slot);
  if (old) {
    // Deleting or changing a slot: its EPT mappings go first (kvm_arch_flush_shadow_memslot).
    if (kvm_unmap_gfn_range(k, old.base_gfn, old.base_gfn + old.npages)) kvm_flush_remote_tlbs(k);
    k.memslots.delete(slot);
  }
  if (size === 0) return 0;
  const base_gfn = gpa / PAGE_SIZE;
  const npages = size / PAGE_SIZE;
  for (const s of k.memslots.values()) {
    if (base_gfn < s.base_gfn + s.npages && s.base_gfn < base_gfn + npages) {
      if (old) k.memslots.set(slot, old);
      return -EEXIST;
    }
  }
  const ms: kvm_memory_slot = { id: slot, base_gfn, npages, userspace_addr: hva, flags };
  k.memslots.set(slot, ms);
  return 0;
}

const kvm_vm_fops: file_operations = {
  release(_inode, f) {
    const k = f.private_data as kvm | null;
    if (k) kvm_put_kvm(k);
    return 0;
  },
  unlocked_ioctl(f, cmd, arg) { return kvm_vm_ioctl(f.private_data as kvm, cmd, arg); },
};

function kvm_vm_ioctl(k: kvm, cmd: number, arg: unknown): number {
  if (!k) return -EIO;
  if (k.mm !== current().mm) return -EIO;
  switch (cmd) {
    case KVM_CREATE_VCPU: return kvm_vm_ioctl_create_vcpu(k, arg);
    case KVM_SET_USER_MEMORY_REGION: return kvm_set_memory_region(k, arg);
    case KVM_CHECK_EXTENSION: return kvm_vm_ioctl_check_extension(arg);
    case KVM_REGISTER_CODE: {
      const c = arg as { routine?: unknown; name?: unknown } | null;
      if (!c || typeof c.routine !== 'function') return -EFAULT;
      const name = typeof c.name === 'string' ? c.name : (c.routine as { name: string }).name;
      return this_cpu().registerCode(c.routine as never, name, k.arch.eptp);
    }
    case KVM_GET_EPT_ENTRY: case KVM_SET_EPT_ENTRY: {
      if (!capable(CAP_SYS_ADMIN)) return -EPERM;
      const e = arg as Record<string, unknown> | null;
      if (!e || typeof e !== 'object' || !u(e.gpa) || e.gpa >= 2 ** 48) return -EINVAL;
      if (cmd === KVM_SET_EPT_ENTRY) {
        if (!u(e.hpa) || !u(e.keyid) || !u(e.flags)) return -EINVAL;
        return kvm_mmu_set_leaf(k, e.gpa, e.hpa, e.keyid, e.flags);
      }
      Object.assign(e, kvm_mmu_get_leaf(k, e.gpa));
      return 0;
    }
    default: return -ENOTTY;
  }
}

// --- vCPUs --------------------------------------------------------------------------------

function kvm_vm_ioctl_create_vcpu(k: kvm, id: unknown): number {
  if (!u(id) || id >= KVM_MAX_VCPUS) return -EINVAL;
  if (k.vcpus.some((v) => v.vcpu_id === id)) return -EEXIST;
  const vcpu: kvm_vcpu = {
    kvm: k, vcpu_id: id, cpu: -1,
    arch: { vmcs_pa: 0, msr_bitmap_pa: 0, vpid: 0, launched: false, cpuid_entries: null, pending_irqs: [] },
    run: null, last_run: null, run_error: 0, shutdown_exit: 0,
    stat: { exits: 0, halt_exits: 0, io_exits: 0, cpuid_exits: 0 },
  };
  const r = kvm_x86().vcpu_create(vcpu);
  if (r < 0) return r;
  k.vcpus.push(vcpu);
  k.users_count++; // kvm_get_kvm: the vCPU fd holds the VM
  const fd = anon_inode_getfd(`kvm-vcpu:${id}`, kvm_vcpu_fops, vcpu);
  if (fd < 0) kvm_vcpu_release(vcpu);
  return fd;
}

function kvm_vcpu_release(vcpu: kvm_vcpu): void {
  kvm_x86().vcpu_free(vcpu);
  vcpu.kvm.vcpus = vcpu.kvm.vcpus.filter((v) => v !== vcpu);
  kvm_put_kvm(vcpu.kvm);
}

const kvm_vcpu_fops: file_operations = {
  release(_inode, f) {
    const v = f.private_data as kvm_vcpu | null;
    if (v) kvm_vcpu_release(v);
    return 0;
  },
  unlocked_ioctl(_f, cmd, arg) { return kvm_vcpu_ioctl(_f.private_data as kvm_vcpu, cmd, arg); },
};

const REG_NAMES = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rsp', 'rbp', 'rip', 'rflags'] as const;

function kvm_vcpu_ioctl(vcpu: kvm_vcpu, cmd: number, arg: unknown): number {
  if (!vcpu) return -EIO;
  if (vcpu.kvm.mm !== current().mm) return -EIO;
  switch (cmd) {
    case KVM_RUN: {
      const run = arg as Parameters<typeof kvm_arch_vcpu_ioctl_run>[1] | null;
      if (!run || typeof run !== 'object' || !run.io || !run.mmio) return -EFAULT;
      if (run.handler !== undefined && typeof run.handler !== 'function') return -EFAULT;
      return kvm_arch_vcpu_ioctl_run(vcpu, run);
    }
    case KVM_GET_REGS: case KVM_SET_REGS: {
      if (!arg || typeof arg !== 'object') return -EFAULT;
      if (vcpu.run) return -EBUSY;
      kvm_x86().vcpu_load(vcpu);
      const r = arg as kvm_regs;
      const regs = vmx_guest_regs();
      if (cmd === KVM_GET_REGS) {
        Object.assign(r, { rax: regs.rax, rbx: regs.rbx, rcx: regs.rcx, rdx: regs.rdx, rsi: regs.rsi, rdi: regs.rdi,
          rsp: regs.rsp, rbp: regs.rbp, rip: vmcs_read(GUEST_RIP), rflags: vmcs_read(GUEST_RFLAGS) });
        return 0;
      }
      if (!REG_NAMES.every((n) => u(r[n]))) return -EINVAL;
      Object.assign(regs, { rax: r.rax, rbx: r.rbx, rcx: r.rcx, rdx: r.rdx, rsi: r.rsi, rdi: r.rdi, rsp: r.rsp, rbp: r.rbp, rflags: r.rflags });
      vmcs_write(GUEST_RFLAGS, r.rflags);
      vmcs_write(GUEST_RIP, r.rip);
      if (r.rip !== 0) vmcs_write(GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
      return 0;
    }
    case KVM_SET_CPUID2: {
      const c = cpuid2_arg(arg);
      if (!c) return -EFAULT;
      if (c.nent > KVM_MAX_CPUID_ENTRIES || c.entries.length < c.nent) return -E2BIG;
      const entries = c.entries.slice(0, c.nent);
      if (!kvm_cpuid_entries_valid(entries)) return -EINVAL;
      vcpu.arch.cpuid_entries = entries.map((e) => ({ ...e }));
      return 0;
    }
    case KVM_GET_CPUID2: {
      const c = cpuid2_arg(arg);
      if (!c) return -EFAULT;
      const entries = vcpu.arch.cpuid_entries ?? [];
      if (c.nent < entries.length) return -E2BIG;
      c.nent = entries.length;
      c.entries = entries.map((e) => ({ ...e }));
      return 0;
    }
    case KVM_INTERRUPT: {
      const irq = (arg as { irq?: unknown } | null)?.irq;
      if (!u(irq)) return -EFAULT;
      if (irq > 255) return -EINVAL;
      vcpu.arch.pending_irqs.push(irq);
      return 0;
    }
    default: return -EINVAL;
  }
}

/** The VM behind a descriptor of the current task (for tools such as `vm ept`), or null. */
export function kvm_from_fd(fd: number): kvm | null {
  const f = fdget(fd);
  return f && f.f_op === kvm_vm_fops ? (f.private_data as kvm) : null;
}
