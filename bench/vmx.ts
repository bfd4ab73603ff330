/**
 * Benchmark section "vmx": the cost of a VM exit on this machine and hypervisor.
 *
 *   vmexit_ns  median wall time of one CPUID round trip from a guest: the vCPU's exit,
 *              KVM's handler (kvm_cpuid on the vCPU's table) and VMRESUME, over 15
 *              batches of 20 000 CPUIDs in one KVM_RUN
 */
import { makeConfig } from '../arch/x86/hw/config.js';
import { Machine } from '../arch/x86/hw/machine.js';
import type { X86Cpu } from '../arch/x86/hw/isa.js';
import { start_kernel } from '../init/main.js';
import { sys_ioctl } from '../fs/ioctl.js';
import { O_RDWR, sys_open } from '../fs/open.js';
import { find_task_by_vpid, run_as } from '../kernel/sched.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, sys_mmap } from '../mm/mmap.js';
import {
  KVM_CREATE_VCPU, KVM_CREATE_VM, KVM_GET_REGS, KVM_REGISTER_CODE, KVM_RUN, KVM_SET_REGS,
  KVM_SET_USER_MEMORY_REGION, kvm_run_alloc, type kvm_regs,
} from '../include/uapi/linux/kvm.js';
import { median, type Goals } from './types.js';

export const goals: Goals = {};

const BATCH = 20_000;

export async function run(): Promise<Record<string, number>> {
  const machine = new Machine(makeConfig({ memPerNode: 64 * 1024 * 1024, nvramSize: 0 }));
  start_kernel(machine.bootParams(''), null);
  const init = find_task_by_vpid(1)!;
  const samples: number[] = [];
  run_as(init, () => {
    const io = (fd: number, cmd: number, arg?: unknown): number => Number(sys_ioctl(fd, cmd, arg));
    const vm = io(sys_open('/dev/kvm', O_RDWR), KVM_CREATE_VM, 0);
    const ram = sys_mmap(0, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    io(vm, KVM_SET_USER_MEMORY_REGION, { slot: 0, flags: 0, guest_phys_addr: 0, memory_size: 1 << 20, userspace_addr: ram });
    const vcpu = io(vm, KVM_CREATE_VCPU, 0);
    const guest = (cpu: X86Cpu): void => {
      for (let b = 0; b < 16; b++) {
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < BATCH; i++) cpu.cpuid(0x40000000);
        if (b > 0) samples.push(Number(process.hrtime.bigint() - t0) / BATCH); // batch 0 warms up
      }
    };
    const regs = {} as kvm_regs;
    io(vcpu, KVM_GET_REGS, regs);
    regs.rip = io(vm, KVM_REGISTER_CODE, { routine: guest, name: 'cpuid_loop' });
    io(vcpu, KVM_SET_REGS, regs);
    io(vcpu, KVM_RUN, kvm_run_alloc());
  });
  return { vmexit_ns: Math.round(median(samples)) };
}
