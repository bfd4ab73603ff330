/**
 * KVM in the host kernel: /dev/kvm's permissions and ioctl errors, what the guest sees
 * (CPUID filtering, #GP on the TME MSRs, #UD on PCONFIG), EPT built with the backing
 * page's KeyID (DRAM = AES-XTS under a type=user key at the host-physical address), the
 * zap-and-flush order when guest memory goes away, and a guest's bad input.
 */
import t from 'tap';
import { addrTweak, xtsEncrypt } from '../../arch/x86/hw/crypto/xts.js';
import * as isa from '../../arch/x86/hw/isa.js';
import {
  KVM_CAP_USER_MEMORY, KVM_CHECK_EXTENSION, KVM_GET_VCPU_MMAP_SIZE, KVM_CREATE_VCPU, KVM_EXIT_HLT, KVM_EXIT_SHUTDOWN, KVM_GET_EPT_ENTRY, KVM_GET_SUPPORTED_CPUID, KVM_INTERRUPT, KVM_REGISTER_CODE,
  KVM_RUN, KVM_SET_CPUID2, KVM_SET_EPT_ENTRY, KVM_SET_REGS, KVM_SET_USER_MEMORY_REGION, type kvm_cpuid2,
  type kvm_ept_entry,
} from '../../include/uapi/linux/kvm.js';
import { sys_close, sys_open, O_RDWR } from '../../fs/open.js';
import { devtmpfs_lookup } from '../../fs/devtmpfs.js';
import { sys_munmap } from '../../mm/mmap.js';
import { sys_encrypt_mprotect, sys_mprotect } from '../../mm/mprotect.js';
import { mmu_notifier_register } from '../../mm/mmu_notifier.js';
import { nr_free_pages, page_count } from '../../mm/page_alloc.js';
import { do_su } from '../../kernel/sys.js';
import { EACCES, EEXIST, EFAULT, EINVAL, EPERM } from '../../kernel/errno.js';
import { kvm_from_fd, kvm_vm_count } from '../../virt/kvm/kvm_main.js';
import { mktme_keyid_shift } from '../../arch/x86/mm/mktme.js';
import { add_mktme_key, as, fork } from '../lib/task.js';
import { bootKernel, SMALL } from '../lib/boot.js';
import { homeNode, lineDecrypt, platformKey } from '../hw/helpers.js';
import { createVm, ioctl, runGuest, type Vm } from './helpers.js';

const KEY = '00112233445566778899aabbccddeeff';
const TWEAK = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';
const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g)!.map((b) => parseInt(b, 16)));
const fault = (fn: () => unknown): string => {
  try { fn(); return 'ok'; } catch (e) { return e instanceof isa.Fault ? e.toString() : `error ${String(e)}`; }
};
const ept = (vm: Vm, gpa: number): kvm_ept_entry => {
  const e = { gpa } as kvm_ept_entry;
  if (ioctl(vm, vm.vmfd, KVM_GET_EPT_ENTRY, e) !== 0) throw new Error('KVM_GET_EPT_ENTRY');
  return e;
};

t.test('/dev/kvm: 0660 root:kvm, EACCES for a user; ioctl argument errors', (t) => {
  const vm = createVm();
  const node = devtmpfs_lookup('/dev/kvm');
  t.ok(typeof node !== 'number' && (node.i_mode & 0o777) === 0o660 && node.i_uid === 0 && node.i_gid === 104, 'crw-rw---- root kvm');
  const user = fork(vm.tsk);
  t.equal(as(user, () => do_su(1000)), 0);
  t.equal(as(user, () => sys_open('/dev/kvm', O_RDWR)), -EACCES, 'an ordinary user: EACCES');
  const region = { slot: 1, flags: 0, guest_phys_addr: 0x80000, memory_size: 0x1000, userspace_addr: vm.ram };
  t.equal(ioctl(vm, vm.vmfd, KVM_SET_USER_MEMORY_REGION, region), -EEXIST, 'overlapping slots: EEXIST');
  t.equal(ioctl(vm, vm.vmfd, KVM_SET_USER_MEMORY_REGION, { ...region, guest_phys_addr: 0x100800 }), -EINVAL, 'unaligned: EINVAL');
  t.equal(ioctl(vm, vm.vmfd, KVM_SET_USER_MEMORY_REGION, { ...region, flags: 8 }), -EINVAL, 'unknown flag: EINVAL');
  t.equal(ioctl(vm, vm.vmfd, KVM_SET_USER_MEMORY_REGION, null), -EFAULT, 'no argument: EFAULT');
  t.equal(ioctl(vm, vm.vmfd, KVM_CREATE_VCPU, 0), -EEXIST, 'vCPU 0 again: EEXIST');
  t.equal(ioctl(vm, vm.vmfd, KVM_CREATE_VCPU, 99), -EINVAL, 'id beyond KVM_MAX_VCPUS: EINVAL');
  t.equal(ioctl(vm, vm.vcpufd, KVM_RUN, {}), -EFAULT, 'KVM_RUN without a kvm_run: EFAULT');
  t.equal(ioctl(vm, vm.vcpufd, KVM_SET_REGS, { rip: -1 }), -EINVAL, 'bad registers: EINVAL');
  t.equal(ioctl(vm, vm.vcpufd, KVM_INTERRUPT, { irq: 300 }), -EINVAL);
  t.equal(ioctl(vm, vm.kvmfd, KVM_GET_SUPPORTED_CPUID, { nent: 1, entries: [] }), -7, 'too few entries: E2BIG');
  t.end();
});

t.test('what the guest sees: CPUID filtered, TME MSRs #GP, PCONFIG #UD, WBINVD handled', (t) => {
  const vm = createVm();
  const seen: Record<string, unknown> = {};
  const r = runGuest(vm, function probe(cpu) {
    const l1 = cpu.cpuid(1);
    const l7 = cpu.cpuid(7);
    seen.hypervisor = l1.ecx >>> 31;
    seen.vmx = (l1.ecx >>> 5) & 1;
    seen.tme = (l7.ecx >>> 13) & 1;
    seen.pconfig = (l7.edx >>> 18) & 1;
    seen.leaf1b = cpu.cpuid(0x1b);
    seen.leaf16 = cpu.cpuid(0x16);
    seen.maxphy = cpu.cpuid(0x80000008).eax & 0xff;
    seen.max = cpu.cpuid(0).eax;
    seen.msrs = [0x981, 0x982, 0x983, 0x984].map((m) => fault(() => cpu.rdmsr(m)));
    seen.wrmsr = fault(() => cpu.wrmsr(0x982, 0n));
    seen.tsc = fault(() => cpu.rdmsr(0x10));
    seen.pconfigInsn = fault(() => cpu.pconfig(0, 0));
    seen.wbinvd = fault(() => cpu.wbinvd());
  });
  t.equal(r, 0);
  t.same(seen, {
    hypervisor: 1, vmx: 0, tme: 0, pconfig: 0, leaf1b: seen.leaf16, maxphy: 46, max: 0x16, leaf16: seen.leaf16,
    msrs: ['#GP(0)', '#GP(0)', '#GP(0)', '#GP(0)'], wrmsr: '#GP(0)', tsc: 'ok', pconfigInsn: '#UD', wbinvd: 'ok',
  }, 'hypervisor bit, no VMX/TME/PCONFIG, leaf 1BH beyond the maximum (16H) reads as 16H, full MAXPHYADDR 46, #GP, #UD');
  t.equal(vm.rig.machine.cpus[0].cpuid(0x80000008).eax & 0xff, 46, 'the host CPU reports 46 too; only x86_phys_bits is reduced');
  // KVM_SET_CPUID2: the VMM's table is what the guest gets.
  const c: kvm_cpuid2 = { nent: 64, entries: [] };
  t.equal(ioctl(vm, vm.kvmfd, KVM_GET_SUPPORTED_CPUID, c), 0);
  const sig = c.entries.find((e) => e.function === 0x40000000)!;
  t.same([sig.ebx, sig.ecx, sig.edx], [0x4b4d564b, 0x564b4d56, 0x4d], '"KVMKVMKVM\\0\\0\\0"');
  const mine = c.entries.map((e) => (e.function === 0x16 ? { ...e, eax: 1234 } : e));
  t.equal(ioctl(vm, vm.vcpufd, KVM_SET_CPUID2, { nent: mine.length, entries: mine }), 0);
  let mhz = 0;
  runGuest(vm, function tsc(cpu) { mhz = cpu.cpuid(0x16).eax; });
  t.equal(mhz, 1234, 'KVM_SET_CPUID2 entries answer the guest');
  t.end();
});

t.test('EPT leaves carry the backing page\'s KeyID; guest RAM in DRAM is AES-XTS under the VMM\'s type=user key', (t) => {
  const vm = createVm(64 * 1024, 5);
  const serial = add_mktme_key(vm.tsk.cred, 'vm1', `type=user algorithm=aes-xts-128 key=${KEY} tweak=${TWEAK}`);
  t.ok(serial > 0);
  t.equal(as(vm.tsk, () => sys_encrypt_mprotect(vm.ram, 64 * 1024, isa.X86_CR0_PG ? 3 : 3, serial)), 0, 'encrypt_mprotect on guest RAM');
  const line = new Uint8Array(64).map((_, i) => 0x80 + i);
  runGuest(vm, function write(cpu) { cpu.write(0x3000, line); });
  const e = ept(vm, 0x3000);
  t.ok(e.present && e.keyid > 0, `leaf KeyID ${e.keyid}`);
  t.equal(e.flags & 7, 7, 'RWX');
  t.equal(e.flags & 0x300, 0x300, 'accessed and dirty (EPTP A/D enabled)');
  for (const c of vm.rig.machine.cpus) c.wbinvd();
  t.same(vm.rig.machine.probe.read(e.hpa, 64), xtsEncrypt(hex(KEY), hex(TWEAK), addrTweak(e.hpa), line),
    'DRAM at the host-physical address = AES-XTS(key, tweak, line address) of what the guest wrote');
  t.equal(ept(vm, 0x8000).present, false, 'pages the guest never touched are not mapped');
  // Root can point an EPT entry anywhere (the threat demonstrations); others cannot.
  t.equal(ioctl(vm, vm.vmfd, KVM_SET_EPT_ENTRY, { gpa: 0x9000, hpa: e.hpa, keyid: 0, flags: 7 }), 0);
  let alias = new Uint8Array(64);
  runGuest(vm, function readAlias(cpu) { alias = new Uint8Array(64); cpu.read(0x9000, alias); });
  const m = vm.rig.machine;
  t.same(alias, lineDecrypt(platformKey(m, homeNode(m, e.hpa)), e.hpa, m.probe.read(e.hpa, 64)!),
    'the same frame through a KeyID-0 EPT entry: the DIMM\'s ciphertext decrypted under the platform key');
  t.equal(as(vm.tsk, () => do_su(1000)), 0, 'the VMM drops root');
  t.equal(ioctl(vm, vm.vmfd, KVM_GET_EPT_ENTRY, { gpa: 0x3000 }), -EPERM, 'KVM_GET_EPT_ENTRY needs CAP_SYS_ADMIN');
  t.end();
});

t.test('freeing guest memory: EPT zapped and INVEPT before mm frees and flushes the page', (t) => {
  const vm = createVm(64 * 1024, 6);
  const serial = add_mktme_key(vm.tsk.cred, 'vm', 'type=cpu algorithm=aes-xts-128');
  t.equal(as(vm.tsk, () => sys_encrypt_mprotect(vm.ram, 64 * 1024, 3, serial)), 0);
  runGuest(vm, function touch(cpu) { cpu.store32(0x5000, 0xabcdef); cpu.load32(0x5000); });
  const before = ept(vm, 0x5000);
  t.ok(before.present && before.keyid > 0, 'a KeyID-n guest page');
  const pfn = before.hpa / 4096;
  const k = kvm_from_fd(vm.vmfd)!;
  const flushes = k.stat.remote_tlb_flush;
  const order: string[] = [];
  const keyAlias = before.hpa + before.keyid * 2 ** mktme_keyid_shift(); // the line the guest wrote
  const cached = (): boolean => vm.rig.machine.caches.peek(keyAlias).length > 0;
  t.ok(cached(), 'the guest\'s line is in a cache before the unmap');
  // A notifier registered after KVM's runs after it, before mm clears its PTEs.
  mmu_notifier_register({ ops: { invalidate_range_start: () => {
    order.push(`after kvm: ept ${ept(vm, 0x5000).present ? 'present' : 'zapped'}, flushes +${k.stat.remote_tlb_flush - flushes}, page refs ${page_count(pfn)}, line ${cached() ? 'cached' : 'flushed'}`);
  } } }, vm.tsk.mm!);
  t.equal(as(vm.tsk, () => sys_munmap(vm.ram, 64 * 1024)), 0);
  order.push(`after munmap: page refs ${page_count(pfn)}, line ${cached() ? 'cached' : 'flushed'}`);
  t.same(order, ['after kvm: ept zapped, flushes +1, page refs 1, line cached', 'after munmap: page refs 0, line flushed'],
    'EvictPage order: remove from EPT, INVEPT on every CPU, then the page is freed (and flushed)');
  let saw = -1;
  const r = runGuest(vm, function again(cpu) { saw = cpu.load32(0x5000); });
  t.equal(r, -EFAULT, 'a GPA whose memory the VMM unmapped: KVM_RUN fails with EFAULT');
  t.equal(saw, -1, 'and the guest never read the freed frame through a stale translation');
  t.end();
});

t.test('encrypt_mprotect on live guest RAM moves the guest to the new KeyID', (t) => {
  const vm = createVm(64 * 1024, 7);
  runGuest(vm, function a(cpu) { cpu.store32(0x1000, 1); });
  t.equal(ept(vm, 0x1000).keyid, 0, 'KeyID 0 before');
  const serial = add_mktme_key(vm.tsk.cred, 'vm', 'type=cpu algorithm=aes-xts-128');
  t.equal(as(vm.tsk, () => sys_encrypt_mprotect(vm.ram, 64 * 1024, 3, serial)), 0);
  t.equal(ept(vm, 0x1000).present, false, 'zapped by the notifier');
  let v = -1;
  runGuest(vm, function b(cpu) { v = cpu.load32(0x1000); });
  t.equal(v, 0, 'contents discarded, as encrypt_mprotect does');
  t.ok(ept(vm, 0x1000).keyid > 0, 'refaulted under the new KeyID');
  t.end();
});

t.test('a guest\'s bad input: wild GPA, unknown port, code that is not code, injected IRQ', (t) => {
  const vm = createVm(64 * 1024, 8);
  vm.mmio.set(0x3fff00000000, 0x1234);
  const got: unknown[] = [];
  t.equal(runGuest(vm, function wild(cpu) {
    got.push(cpu.load32(0x3fff00000000));
    cpu.store32(0x3fff00000010, 0x55);
    got.push(cpu.inb(0x1234));
    got.push(fault(() => cpu.load32(2 ** 47)));
  }), 0);
  t.same(got, [0x1234, 0xff, '#GP(0)'], 'MMIO read answered by the VMM, floating port, beyond MAXPHYADDR #GP');
  t.same(vm.exits, ['mmio:r:0x3fff00000000', 'mmio:w:0x3fff00000010', 'io:in:0x1234']);
  t.equal(vm.mmio.get(0x3fff00000010), 0x55, 'the MMIO write reached the VMM');
  t.equal(ept(vm, 0x3fff00000000).present, false, 'MMIO gets no EPT entry');
  const r = ioctl(vm, vm.vcpufd, KVM_SET_REGS, { rax: 0, rbx: 0, rcx: 0, rdx: 0, rsi: 0, rdi: 0, rsp: 0, rbp: 0, rip: 999999, rflags: 2 });
  t.equal(r, 0);
  t.equal(ioctl(vm, vm.vcpufd, KVM_RUN, vm.run), 0);
  t.equal(vm.run.exit_reason, KVM_EXIT_SHUTDOWN, 'RIP that is no guest code: the guest shuts down, the host goes on');
  const vm2 = createVm(64 * 1024, 9, vm.rig);
  t.equal(runGuest(vm2, function throws() { throw new TypeError('guest kernel bug'); }), 0);
  t.equal(vm2.run.exit_reason, KVM_EXIT_SHUTDOWN, 'an exception escaping guest code: KVM_EXIT_SHUTDOWN');
  const vm3 = createVm(64 * 1024, 10, vm.rig);
  const log: string[] = [];
  runGuest(vm3, function setup(cpu) {
    const h = cpu.registerCode(() => log.push(`irq ${cpu.inb(0x3f8)}`), 'rx');
    const gate = new Uint8Array(16);
    const dv = new DataView(gate.buffer);
    dv.setUint16(0, h & 0xffff, true); dv.setUint16(6, h >>> 16, true); dv.setUint8(5, 0x8e);
    cpu.write(0x800 + 0x24 * 16, gate);
    cpu.lidt(0x800, 0xfff);
  });
  vm3.inValue = () => 0x41;
  t.equal(ioctl(vm3, vm3.vcpufd, KVM_INTERRUPT, { irq: 0x24 }), 0);
  t.equal(ioctl(vm3, vm3.vcpufd, KVM_RUN, vm3.run), 0);
  t.equal(vm3.run.exit_reason, KVM_EXIT_HLT);
  t.same(log, ['irq 65'], 'KVM_INTERRUPT ran the guest handler, which read the port');
  t.end();
});

t.test('two vCPUs: an IPI through the x2APIC ICR runs the target vCPU before the WRMSR completes', (t) => {
  const vm = createVm(64 * 1024, 11);
  const fd1 = ioctl(vm, vm.vmfd, KVM_CREATE_VCPU, 1);
  t.ok(fd1 >= 0, 'vCPU 1');
  const log: string[] = [];
  const apEntry = ioctl(vm, vm.vmfd, KVM_REGISTER_CODE, { routine: (cpu: isa.X86Cpu) => {
    log.push(`ap up, APIC ID ${cpu.rdmsr(0x802)}, index ${cpu.index}`);
    cpu.lidt(0x800, 0xfff);
  }, name: 'ap_entry' });
  t.equal(ioctl(vm, fd1, KVM_SET_REGS, { rax: 0, rbx: 0, rcx: 0, rdx: 0, rsi: 0, rdi: 0, rsp: 0, rbp: 0, rip: apEntry, rflags: 2 }), 0);
  t.equal(runGuest(vm, function bsp(cpu) {
    const h = cpu.registerCode((c) => log.push(`ipi on ${c.rdmsr(0x802)}`), 'call_function');
    const gate = new Uint8Array(16);
    const dv = new DataView(gate.buffer);
    dv.setUint16(0, h & 0xffff, true); dv.setUint16(6, h >>> 16, true); dv.setUint8(5, 0x8e);
    cpu.write(0x800 + 0xf0 * 16, gate);
    cpu.lidt(0x800, 0xfff);
    cpu.wrmsr(0x830, (1n << 32n) | 0xf0n);
    log.push(`back on ${cpu.rdmsr(0x802)}, index ${cpu.index}`);
    cpu.wrmsr(0x830, (7n << 32n) | 0xf0n); // no such APIC: dropped
  }), 0);
  t.same(log, ['ap up, APIC ID 1, index 1', 'ipi on 1', 'back on 0, index 0'], 'the AP started, took the IPI, and the BSP went on');
  t.equal(vm.run.exit_reason, KVM_EXIT_HLT);
  t.end();
});

t.test('mprotect of guest RAM: EPT follows the VMM mapping (read-only: reads work, a write fails KVM_RUN)', (t) => {
  const vm = createVm(64 * 1024, 12);
  runGuest(vm, function w(cpu) { cpu.store32(0x2000, 0x77); });
  t.equal(ept(vm, 0x2000).flags & 7, 7);
  t.equal(as(vm.tsk, () => sys_mprotect(vm.ram, 64 * 1024, 1 /* PROT_READ */)), 0);
  t.equal(ept(vm, 0x2000).present, false, 'change_protection told KVM: zapped');
  let v = 0;
  t.equal(runGuest(vm, function r(cpu) { v = cpu.load32(0x2000); }), 0);
  t.equal(v, 0x77, 'the data is still there');
  t.equal(ept(vm, 0x2000).flags & 7, 5, 'mapped R-X, as the VMA allows');
  t.equal(runGuest(vm, function w2(cpu) { cpu.store32(0x2000, 1); }), -EFAULT, 'a write to read-only memory: EFAULT');
  t.end();
});

t.test('closing the fds destroys the VM: EPT tables, VMCS and bitmap pages freed, VMXOFF with the last VM', (t) => {
  const rig = bootKernel({ ...SMALL, seed: 13 });
  const before = nr_free_pages();
  const vm = createVm(64 * 1024, 13, rig);
  runGuest(vm, function touch(cpu) { for (let p = 0; p < 16; p++) cpu.store32(p * 4096, p); });
  const k = kvm_from_fd(vm.vmfd)!;
  t.ok(k.arch.ept_pages >= 4, `EPT built: ${k.arch.ept_pages} table pages`);
  t.ok(nr_free_pages() < before, 'guest RAM and EPT tables are allocated');
  t.equal(ioctl(vm, vm.kvmfd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY), 1);
  t.equal(ioctl(vm, vm.kvmfd, KVM_GET_VCPU_MMAP_SIZE, 0), 4096);
  t.equal(kvm_vm_count(), 1);
  as(vm.tsk, () => { sys_close(vm.vcpufd); sys_close(vm.vmfd); sys_munmap(vm.ram, 64 * 1024); });
  t.equal(kvm_vm_count(), 0, 'the vCPU fd held the VM until it closed too');
  t.equal(nr_free_pages(), before, 'every page back: guest RAM, EPT tables, VMCS, MSR bitmap (VMXON regions too)');
  t.equal(fault(() => vm.rig.machine.cpus[0].vmptrst()), '#UD', 'VMXOFF on every CPU with the last VM');
  t.end();
});
