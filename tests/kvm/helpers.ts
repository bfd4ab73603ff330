/**
 * A minimal VMM for the KVM tests (the `kvm` helper's real VMM lives in tools/): boot a
 * host kernel, then, as root's init process, open /dev/kvm, make a VM with one memslot
 * of anonymous memory and one vCPU, and run guest routines on it.
 */
import { bootKernel, SMALL, type Booted } from '../lib/boot.js';
import { as } from '../lib/task.js';

export type Rig = Booted;
const boot = (seed: number): Rig => bootKernel({ ...SMALL, seed });
import { sys_ioctl } from '../../fs/ioctl.js';
import { O_RDWR, sys_open } from '../../fs/open.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, sys_mmap } from '../../mm/mmap.js';
import {
  KVM_CREATE_VCPU, KVM_CREATE_VM, KVM_GET_REGS, KVM_REGISTER_CODE, KVM_RUN, KVM_SET_REGS,
  KVM_SET_USER_MEMORY_REGION, kvm_run_alloc, type kvm_regs, type kvm_run,
} from '../../include/uapi/linux/kvm.js';
import type { Routine } from '../../arch/x86/hw/isa.js';
import type { task_struct } from '../../kernel/sched.js';

export interface Vm {
  rig: Rig;
  tsk: task_struct;
  kvmfd: number;
  vmfd: number;
  vcpufd: number;
  ram: number;
  ramSize: number;
  /** Bytes the guest wrote to port 0x3f8. */
  serial: string;
  /** Every exit the handler saw, as "io:out:0x3f8" / "mmio:r:0x..." / "hlt". */
  exits: string[];
  /** Answer for IN and MMIO reads (default all ones). */
  inValue: (port: number) => number;
  mmio: Map<number, number>;
  run: kvm_run;
}

export function ioctl(vm: Vm, fd: number, cmd: number, arg?: unknown): number {
  return Number(as(vm.tsk, () => sys_ioctl(fd, cmd, arg)));
}

/** Boot the host and create a VM with `ramSize` bytes of guest RAM at GPA 0 and vCPU 0. */
export function createVm(ramSize = 1 << 20, seed = 1, rig: Rig = boot(seed)): Vm {
  const tsk = rig.init;
  const vm = { rig, tsk, serial: '', exits: [] as string[], inValue: () => 0xff, mmio: new Map() } as unknown as Vm;
  vm.kvmfd = as(tsk, () => sys_open('/dev/kvm', O_RDWR));
  vm.vmfd = ioctl(vm, vm.kvmfd, KVM_CREATE_VM, 0);
  vm.ram = as(tsk, () => sys_mmap(0, ramSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS));
  vm.ramSize = ramSize;
  const r = ioctl(vm, vm.vmfd, KVM_SET_USER_MEMORY_REGION,
    { slot: 0, flags: 0, guest_phys_addr: 0, memory_size: ramSize, userspace_addr: vm.ram });
  if (r !== 0) throw new Error(`KVM_SET_USER_MEMORY_REGION: ${r}`);
  vm.vcpufd = ioctl(vm, vm.vmfd, KVM_CREATE_VCPU, 0);
  vm.run = kvm_run_alloc((run) => {
    if (run.exit_reason === 2) {
      const { direction, port, size, data } = run.io;
      vm.exits.push(`io:${direction ? 'out' : 'in'}:0x${port.toString(16)}`);
      if (direction === 1 && port === 0x3f8) vm.serial += String.fromCharCode(data[0]);
      if (direction === 0) { const v = vm.inValue(port); for (let i = 0; i < size; i++) data[i] = (v >>> (8 * i)) & 0xff; }
    } else if (run.exit_reason === 6) {
      const m = run.mmio;
      vm.exits.push(`mmio:${m.is_write ? 'w' : 'r'}:0x${m.phys_addr.toString(16)}`);
      if (!m.is_write) { const v = vm.mmio.get(m.phys_addr) ?? 0xffffffff; for (let i = 0; i < m.len; i++) m.data[i] = (v >>> (8 * (i % 4))) & 0xff; }
      else vm.mmio.set(m.phys_addr, new DataView(m.data.buffer, m.data.byteOffset).getUint32(0, true));
    } else {
      vm.exits.push(run.exit_reason === 5 ? 'hlt' : `exit:${run.exit_reason}`);
    }
  });
  return vm;
}

/** Load `routine` as guest code, point the vCPU at it, KVM_RUN: its result. */
export function runGuest(vm: Vm, routine: Routine): number {
  const rip = ioctl(vm, vm.vmfd, KVM_REGISTER_CODE, { routine, name: routine.name });
  const regs = {} as kvm_regs;
  ioctl(vm, vm.vcpufd, KVM_GET_REGS, regs);
  regs.rip = rip;
  const r = ioctl(vm, vm.vcpufd, KVM_SET_REGS, regs);
  if (r !== 0) throw new Error(`KVM_SET_REGS: ${r}`);
  return ioctl(vm, vm.vcpufd, KVM_RUN, vm.run);
}
