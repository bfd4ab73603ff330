/**
 * The VMM: a small kvmtool (`lkvm run`). Each VM is a host process (comm "lkvm", a
 * child of the shell that created it, so `ps` shows it) whose own anonymous memory backs
 * guest RAM, and which drives the guest through /dev/kvm with Linux's ioctls
 * (include/uapi/linux/kvm.ts; Documentation/virt/kvm/api.rst):
 *
 *   open /dev/kvm, KVM_GET_API_VERSION, KVM_CREATE_VM
 *   mmap guest RAM (MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE) in the VMM process;
 *     with --key SERIAL: encrypt_mprotect(ram, size, RW, SERIAL). The VMM chooses the
 *     KeyID in user space, as in the MKTME series; there is no KVM ioctl for KeyIDs:
 *     KVM's EPT leaf takes page_keyid() of the host page backing each guest frame.
 *   for each --share NAME:GPA:SIZE[:SERIAL]: shm_open(NAME) + ftruncate + mmap(MAP_SHARED)
 *     and, for the object's first mapper, encrypt_mprotect under SERIAL: the KeyID is
 *     the object's (mm/shmem.ts), so every VM mapping NAME reaches the same frames
 *     under the same KeyID;
 *   KVM_SET_USER_MEMORY_REGION: slot 0 = RAM at GPA 0, one slot per shared region;
 *   the firmware view written into guest RAM through the VMM's own mapping (zero page,
 *     command line, MP table: tools/vmm/bootparams.ts);
 *   KVM_CREATE_VCPU per vCPU (each its own VMCS), KVM_GET_SUPPORTED_CPUID +
 *     KVM_SET_CPUID2, KVM_REGISTER_CODE of the guest image's entries (a fresh instance
 *     of this kernel: tools/vmm/kernel_image.ts), KVM_SET_REGS (the boot vCPU's rip at
 *     startup_64; each AP's at secondary_startup_64, where it waits for its first IPI),
 *     then KVM_RUN of the boot vCPU. The APs run inside it: the guest's IPIs (x2APIC
 *     ICR writes) make KVM run the target vCPU before the sender's WRMSR retires, so
 *     one KVM_RUN loop drives every vCPU.
 *
 * Devices are kvmtool's: two 16550A UARTs (COM1 = the console, COM2 = the guest agent
 * channel, tools/vmm/serial8250.ts); any other port reads all ones and ignores writes,
 * MMIO reads all ones. There is no interrupt controller: the VMM injects
 * ISA_IRQ_VECTOR(irq) = 0x30 + irq with KVM_INTERRUPT, the vectors Linux gives the
 * legacy PIC's lines, and only while the guest is idle (between KVM_RUNs), never in the
 * middle of a guest instruction.
 */
import { CommandError } from '../registry.js';
import { releaseImage, takeImage, type KernelImage } from './kernel_image.js';
import { firmwareImage, type GuestLayout } from './bootparams.js';
import { COM1, COM2, Serial8250 } from './serial8250.js';
import type { GuestAgentReply } from '../guest/init.js';
import {
  KVM_CREATE_VCPU, KVM_CREATE_VM, KVM_EXIT_HLT, KVM_EXIT_IO, KVM_EXIT_IO_IN, KVM_EXIT_MMIO,
  KVM_GET_API_VERSION, KVM_GET_EPT_ENTRY, KVM_GET_REGS, KVM_GET_SUPPORTED_CPUID, KVM_INTERRUPT,
  KVM_MAX_CPUID_ENTRIES, KVM_REGISTER_CODE, KVM_RUN, KVM_SET_CPUID2, KVM_SET_EPT_ENTRY, KVM_SET_REGS,
  KVM_SET_USER_MEMORY_REGION, KVM_API_VERSION, kvm_run_alloc, type kvm_cpuid2, type kvm_ept_entry,
  type kvm_regs, type kvm_run,
} from '../../include/uapi/linux/kvm.js';
import { O_RDWR, sys_close, sys_open } from '../../fs/open.js';
import { sys_ioctl } from '../../fs/ioctl.js';
import { MAP_ANONYMOUS, MAP_NORESERVE, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE, sys_mmap, sys_mmap_shm } from '../../mm/mmap.js';
import { sys_encrypt_mprotect } from '../../mm/mprotect.js';
import { O_CREAT, shm_open, shmem_truncate } from '../../mm/shmem.js';
import { user_write } from '../../mm/uaccess.js';
import { kernel_clone } from '../../kernel/fork.js';
import { do_exit, kernel_wait4 } from '../../kernel/exit.js';
import { find_task_by_vpid, run_as, set_task_comm, type task_struct } from '../../kernel/sched.js';
import { encrypt_key_lookup } from '../../kernel/cred.js';
import { strerror } from '../../kernel/errno.js';
import type { X86Cpu } from '../../arch/x86/hw/isa.js';

const RW = PROT_READ | PROT_WRITE;
const ISA_IRQ_VECTOR = (irq: number): number => 0x30 + irq;
/** What every guest's command line starts with (lkvm puts console=ttyS0 there too). */
export const GUEST_CMDLINE = 'console=ttyS0 8250.nr_uarts=2';
/** vCPUs per VM this VMM runs (KVM allows KVM_MAX_VCPUS). */
export const VMM_MAX_CPUS = 4;

export interface ShareSpec { name: string; gpa: number; size: number; serial: number | null }
export interface VmConfig {
  name: string;
  memSize: number;
  cpus: number;
  serial: number | null;
  append: string;
  shares: ShareSpec[];
}

interface Slot { gpa: number; size: number; va: number; what: string }

/** A system call's -errno as "WHAT: strerror". */
function check(what: string, ret: number | bigint): number {
  const n = Number(ret);
  if (n < 0) throw new CommandError(`${what}: ${strerror(n)}`);
  return n;
}

export class Vm {
  /** Console output not yet shown (the guest's serial console). */
  console = '';
  private agentOut = '';
  private readonly com1 = new Serial8250(COM1.base, COM1.irq, (b) => { this.console += String.fromCharCode(b); });
  private readonly com2 = new Serial8250(COM2.base, COM2.irq, (b) => { this.agentOut += String.fromCharCode(b); });
  private readonly run: kvm_run;
  vcpufds: number[] = [];
  vmfd = -1;
  kvmfd = -1;
  slots: Slot[] = [];
  image: KernelImage | null = null;
  /** Why the guest stopped (shutdown, internal error), or null while it runs. */
  dead: string | null = null;
  exits = 0;

  constructor(readonly cfg: VmConfig, readonly task: task_struct) {
    this.run = kvm_run_alloc((r) => this.handle(r));
  }

  get pid(): number { return this.task.pid; }

  /** A system call as the VMM process. */
  sys<T>(fn: () => T): T { return run_as(this.task, fn); }

  /** The run-loop body: an exit in the middle of a guest operation. */
  private handle(r: kvm_run): void {
    this.exits++;
    if (r.exit_reason === KVM_EXIT_IO) {
      const dev = this.com1.claims(r.io.port) ? this.com1 : this.com2.claims(r.io.port) ? this.com2 : null;
      if (r.io.direction === KVM_EXIT_IO_IN) r.io.data.fill(0xff);
      if (!dev) return;
      for (let i = 0; i < r.io.size; i++) {
        if (r.io.direction === KVM_EXIT_IO_IN) r.io.data[i] = dev.read(r.io.port + i);
        else dev.write(r.io.port + i, r.io.data[i]);
      }
    } else if (r.exit_reason === KVM_EXIT_MMIO) {
      if (!r.mmio.is_write) r.mmio.data.fill(0xff);
    }
  }

  /** KVM_RUN until the guest is idle again; raise pending UART interrupts first. */
  kvmRun(): void {
    if (this.dead) throw new CommandError(`${this.cfg.name}: the guest has stopped (${this.dead})`);
    for (const u of [this.com1, this.com2]) {
      if (u.irqLine()) this.sys(() => sys_ioctl(this.vcpufds[0], KVM_INTERRUPT, { irq: ISA_IRQ_VECTOR(u.irq) }));
    }
    const ret = this.sys(() => sys_ioctl(this.vcpufds[0], KVM_RUN, this.run));
    check('KVM_RUN', ret);
    if (this.run.exit_reason !== KVM_EXIT_HLT) {
      this.dead = `exit reason ${this.run.exit_reason}`;
      throw new CommandError(`${this.cfg.name}: the guest stopped (KVM_RUN exit reason ${this.run.exit_reason})`);
    }
  }

  /** Type `text` on the console; returns what the guest printed meanwhile. */
  type(text: string): string {
    this.com1.receive(text);
    this.kvmRun();
    return this.takeConsole();
  }

  /** The console output so far, its line ends ("\r\n" from the guest's ONLCR) as the host's. */
  takeConsole(): string {
    const s = this.console;
    this.console = '';
    return s.replace(/\r\n/g, '\n');
  }

  /** The guest agent's guest-exec: run `script` in the guest, its output and status. */
  exec(script: string): GuestAgentReply {
    this.agentOut = '';
    this.com2.receive(JSON.stringify({ exec: script }) + '\n');
    this.kvmRun();
    const line = this.agentOut.replace(/\r\n/g, '\n').split('\n')[0];
    try {
      return JSON.parse(line) as GuestAgentReply;
    } catch {
      throw new CommandError(`${this.cfg.name}: no answer from the guest agent`);
    }
  }

  /** KVM_GET_EPT_ENTRY for one GPA. */
  eptEntry(gpa: number): kvm_ept_entry | number {
    const e: kvm_ept_entry = { gpa, hpa: 0, keyid: 0, flags: 0, present: false };
    const ret = Number(this.sys(() => sys_ioctl(this.vmfd, KVM_GET_EPT_ENTRY, e)));
    return ret < 0 ? ret : e;
  }

  /** KVM_SET_EPT_ENTRY: point `gpa` at `hpa` under `keyid` (root; threat demonstrations). */
  setEptEntry(e: kvm_ept_entry): number {
    return Number(this.sys(() => sys_ioctl(this.vmfd, KVM_SET_EPT_ENTRY, e)));
  }

  /** The VMM's virtual address of guest-physical `gpa` (in a memslot), or -1. */
  hva(gpa: number): number {
    for (const s of this.slots) if (gpa >= s.gpa && gpa < s.gpa + s.size) return s.va + (gpa - s.gpa);
    return -1;
  }
}

/** Build the VMM process and its VM; boot the guest to its shell prompt. */
export function vm_create(cfg: VmConfig, parent: task_struct): Vm {
  const pid = run_as(parent, () => kernel_clone(parent));
  if (pid < 0) throw new CommandError(`fork: ${strerror(pid)}`);
  const task = find_task_by_vpid(pid)!;
  set_task_comm(task, 'lkvm');
  const vm = new Vm(cfg, task);
  try {
    vm_setup(vm);
  } catch (e) {
    vm_destroy(vm, parent);
    throw e;
  }
  return vm;
}

function vm_setup(vm: Vm): void {
  const { cfg } = vm;
  vm.sys(() => {
    vm.kvmfd = check('/dev/kvm', sys_open('/dev/kvm', O_RDWR));
    const api = check('KVM_GET_API_VERSION', sys_ioctl(vm.kvmfd, KVM_GET_API_VERSION));
    if (api !== KVM_API_VERSION) throw new CommandError(`KVM API version ${api}, expected ${KVM_API_VERSION}`);
    vm.vmfd = check('KVM_CREATE_VM', sys_ioctl(vm.kvmfd, KVM_CREATE_VM, 0));

    // Guest RAM: the VMM's anonymous memory, under the VM's KeyID if it has a key.
    const ram = check('mmap', sys_mmap(0, cfg.memSize, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE));
    if (cfg.serial !== null) check('encrypt_mprotect', sys_encrypt_mprotect(ram, cfg.memSize, RW, cfg.serial));
    vm.slots.push({ gpa: 0, size: cfg.memSize, va: ram, what: 'ram' });

    for (const sh of cfg.shares) vm.slots.push({ gpa: sh.gpa, size: sh.size, va: map_share(vm, sh), what: sh.name });
    vm.slots.forEach((s, slot) => {
      check('KVM_SET_USER_MEMORY_REGION', sys_ioctl(vm.vmfd, KVM_SET_USER_MEMORY_REGION, {
        slot, flags: 0, guest_phys_addr: s.gpa, memory_size: s.size, userspace_addr: s.va,
      }));
    });

    // The firmware view, written through the VMM's own mapping of guest RAM.
    const layout: GuestLayout = { ramSize: cfg.memSize, regions: cfg.shares.map((s) => ({ gpa: s.gpa, size: s.size })) };
    const cmdline = cfg.append ? `${GUEST_CMDLINE} ${cfg.append}` : GUEST_CMDLINE;
    for (const [gpa, bytes] of firmwareImage(layout, cfg.cpus, cmdline)) {
      const r = user_write(vm.task, vm.hva(gpa), bytes);
      if (!r.ok) throw new CommandError('cannot write the guest firmware view');
    }

    const supported: kvm_cpuid2 = { nent: KVM_MAX_CPUID_ENTRIES, entries: [] };
    check('KVM_GET_SUPPORTED_CPUID', sys_ioctl(vm.kvmfd, KVM_GET_SUPPORTED_CPUID, supported));
    for (let i = 0; i < cfg.cpus; i++) {
      const fd = check('KVM_CREATE_VCPU', sys_ioctl(vm.vmfd, KVM_CREATE_VCPU, i));
      check('KVM_SET_CPUID2', sys_ioctl(fd, KVM_SET_CPUID2, supported));
      vm.vcpufds.push(fd);
    }
  });

  // The guest image: this kernel again, as a fresh instance of its modules.
  const img = takeImage();
  if (!img) throw new CommandError('no guest kernel image loaded yet (the shell loads them in the background; try again)');
  vm.image = img;
  const entry = (cpu: X86Cpu): void => {
    img.head64.x86_64_start_kernel(cpu);
    img.guest.guest_init();
  };
  vm.sys(() => {
    const bsp = check('KVM_REGISTER_CODE', sys_ioctl(vm.vmfd, KVM_REGISTER_CODE, { routine: entry, name: 'startup_64' }));
    // The APs are parked at the kernel's AP entry; each runs it at its first IPI.
    const ap = cfg.cpus > 1
      ? check('KVM_REGISTER_CODE', sys_ioctl(vm.vmfd, KVM_REGISTER_CODE, {
        routine: img.head64.secondary_startup_64, name: 'secondary_startup_64',
      }))
      : 0;
    vm.vcpufds.forEach((fd, i) => {
      const regs = { rax: 0, rbx: 0, rcx: 0, rdx: 0, rsi: 0, rdi: 0, rsp: 0, rbp: 0, rip: 0, rflags: 2 } as kvm_regs;
      check('KVM_GET_REGS', sys_ioctl(fd, KVM_GET_REGS, regs));
      regs.rip = i === 0 ? bsp : ap;
      if (i === 0) regs.rsi = 0x10000; // the zero page, as the boot protocol passes it
      check('KVM_SET_REGS', sys_ioctl(fd, KVM_SET_REGS, regs));
    });
  });
  vm.kvmRun(); // boot to the idle loop: the login shell's prompt is on the console
}

/** One --share region in the VMM: the named object mapped shared, its KeyID set once. */
function map_share(vm: Vm, sh: ShareSpec): number {
  const what = `--share ${sh.name}`;
  const file = shm_open(sh.name, O_CREAT | O_RDWR);
  if (typeof file === 'number') throw new CommandError(`${what}: ${strerror(file)}`);
  if (file.size === 0) check(what, shmem_truncate(file, sh.size));
  else if (file.size !== sh.size) throw new CommandError(`${what}: the object is ${file.size} bytes, not ${sh.size}`);
  const va = check(what, sys_mmap_shm(0, sh.size, RW, MAP_SHARED, file, 0));
  let want = 0;
  if (sh.serial !== null) {
    const key = encrypt_key_lookup(vm.task.cred, sh.serial);
    if (typeof key === 'number') throw new CommandError(`${what}: key ${sh.serial}: ${strerror(key)}`);
    want = key.keyid;
    key.release();
  }
  if (file.keyid === want) return va;
  // The first mapper fixes the object's KeyID; later ones must agree with it.
  if (file.mappings === 1 && sh.serial !== null) {
    check(`${what}: encrypt_mprotect`, sys_encrypt_mprotect(va, sh.size, RW, sh.serial));
    return va;
  }
  throw new CommandError(`${what}: the object is under KeyID ${file.keyid}, not ${want}`);
}

/** Close the VM (KVM tears down its EPT) and end the VMM process; the parent reaps it. */
export function vm_destroy(vm: Vm, parent: task_struct): void {
  vm.sys(() => {
    for (const fd of vm.vcpufds) sys_close(fd);
    if (vm.vmfd >= 0) sys_close(vm.vmfd);
    if (vm.kvmfd >= 0) sys_close(vm.kvmfd);
  });
  vm.vcpufds = [];
  vm.vmfd = vm.kvmfd = -1;
  do_exit(vm.task, 0);
  kernel_wait4(parent, vm.pid, null);
  vm_release(vm);
}

/** The guest image goes back to the pool (its next boot resets all its state). */
export function vm_release(vm: Vm): void {
  if (vm.image) releaseImage(vm.image);
  vm.image = null;
  vm.dead = 'destroyed';
}
