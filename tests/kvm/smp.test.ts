/**
 * Multi-vCPU guests.
 *  - KVM: two vCPUs of one VM, each with its own VMCS (KeyID 0, its own address and
 *    VPID), both translating through the VM's one EPT, whose leaves carry the VM's
 *    KeyID; an x2APIC ICR write runs the AP (its entry first, then the vector) before
 *    the sender's WRMSR retires, and the AP sees the BSP's store.
 *  - The guest kernel on `vm create --cpus 2`: smp_init brings the AP up by IPI
 *    (identify_cpu there: no TME), /proc/cpuinfo lists both CPUs, processes run on
 *    either, and a TLB shootdown reaches the other vCPU (a stale translation there
 *    would read the freed page instead of faulting).
 */
import t, { type Test } from 'tap';
import * as isa from '../../arch/x86/hw/isa.js';
import { installImageLoader, imageUrl, preloadImages } from '../../tools/vmm/kernel_image.js';

installImageLoader();
const { KVM_CREATE_VCPU, KVM_GET_EPT_ENTRY, KVM_REGISTER_CODE, KVM_SET_REGS } = await import('../../include/uapi/linux/kvm.js');
const { kvm_from_fd } = await import('../../virt/kvm/kvm_main.js');
const { mktme_keyid_shift } = await import('../../arch/x86/mm/mktme.js');
const { sys_encrypt_mprotect } = await import('../../mm/mprotect.js');
const { smp_call_function_single } = await import('../../arch/x86/include/asm/processor.js');
const { vmcs_clear, vmcs_load, vmcs_read } = await import('../../arch/x86/kvm/vmx/vmx_ops.js');
const { add_mktme_key, as } = await import('../lib/task.js');
const { createVm, ioctl, runGuest } = await import('./helpers.js');
const { bufferIo } = await import('../../tools/lib/io.js');
const { openSession } = await import('../../tools/vmm/session.js');

const CALL_FUNCTION_SINGLE_VECTOR = 0xfb;

function gate(h: number): Uint8Array {
  const g = new Uint8Array(16);
  const dv = new DataView(g.buffer);
  dv.setUint16(0, h & 0xffff, true); dv.setUint16(6, h >>> 16, true); dv.setUint8(5, 0x8e);
  return g;
}

t.test('two vCPUs: a VMCS each, one EPT under the VM KeyID, an IPI', (t) => {
  const vm = createVm(64 * 1024, 21);
  const serial = add_mktme_key(vm.tsk.cred, 'vm', 'type=cpu algorithm=aes-xts-128');
  t.equal(as(vm.tsk, () => sys_encrypt_mprotect(vm.ram, 64 * 1024, 3, serial)), 0);
  const fd1 = ioctl(vm, vm.vmfd, KVM_CREATE_VCPU, 1);
  t.ok(fd1 >= 0, 'KVM_CREATE_VCPU 1');
  const log: string[] = [];
  const apEntry = ioctl(vm, vm.vmfd, KVM_REGISTER_CODE, { routine: (cpu: isa.X86Cpu) => {
    log.push(`entry on APIC ${cpu.rdmsr(0x802)}`);
    cpu.lidt(0x800, 0xfff);
  }, name: 'secondary_startup_64' });
  t.equal(ioctl(vm, fd1, KVM_SET_REGS, { rax: 0, rbx: 0, rcx: 0, rdx: 0, rsi: 0, rdi: 0, rsp: 0, rbp: 0, rip: apEntry, rflags: 2 }), 0);
  const seen: number[] = [];
  t.equal(runGuest(vm, function bsp(cpu) {
    const h = cpu.registerCode((c) => {
      const v = c.load32(0x3000); // the BSP's store, through the same EPT
      c.store32(0x3004, v + Number(c.rdmsr(0x802)));
      log.push(`ipi on APIC ${c.rdmsr(0x802)}, index ${c.index}`);
    }, 'sysvec_call_function_single');
    cpu.write(0x800 + CALL_FUNCTION_SINGLE_VECTOR * 16, gate(h));
    cpu.lidt(0x800, 0xfff);
    cpu.store32(0x3000, 0xcafe);
    cpu.wrmsr(0x830, (1n << 32n) | BigInt(CALL_FUNCTION_SINGLE_VECTOR));
    seen.push(cpu.load32(0x3004));
    cpu.store32(0x3000, 0xbeef);
    cpu.wrmsr(0x830, (1n << 32n) | BigInt(CALL_FUNCTION_SINGLE_VECTOR));
    seen.push(cpu.load32(0x3004));
  }), 0);
  t.same(log, ['entry on APIC 1', 'ipi on APIC 1, index 1', 'ipi on APIC 1, index 1'],
    'the AP ran its entry once, then each IPI, inside the WRMSR');
  t.same(seen, [0xcaff, 0xbef0], "the BSP read the AP's answer right after each WRMSR");

  const k = kvm_from_fd(vm.vmfd)!;
  t.equal(k.vcpus.length, 2);
  const [v0, v1] = k.vcpus;
  t.not(v0.arch.vmcs_pa, v1.arch.vmcs_pa, 'a VMCS per vCPU'); // which frames is the allocator's choice
  t.same([v0.arch.vpid, v1.arch.vpid], [1, 2], 'a VPID per vCPU: the lowest free (allocate_vpid; 0 is the host\'s)');
  for (const v of [v0, v1]) {
    t.equal(v.arch.vmcs_pa % 4096, 0);
    t.ok(v.arch.vmcs_pa < 2 ** mktme_keyid_shift(), 'VMCS on KeyID 0 (the hypervisor\'s data)');
    // VMPTRLD the vCPU's VMCS where it last ran: its EPT_POINTER is the VM's.
    const eptp = smp_call_function_single(v.cpu, () => {
      vmcs_load(v.arch.vmcs_pa);
      const p = vmcs_read(isa.EPT_POINTER);
      vmcs_clear(v.arch.vmcs_pa);
      return p;
    });
    t.equal(eptp, k.arch.eptp, `vCPU ${v.vcpu_id}: EPT_POINTER is the VM's one EPT`);
  }
  const e = { gpa: 0x3000 } as { gpa: number; hpa: number; keyid: number; present: boolean };
  t.equal(ioctl(vm, vm.vmfd, KVM_GET_EPT_ENTRY, e), 0);
  t.ok(e.present && e.keyid > 0, `the shared page's EPT leaf carries the VM's KeyID (${e.keyid})`);
  t.end();
});

t.test('a guest kernel on two vCPUs', async (t: Test) => {
  await preloadImages(1);
  const buf = bufferIo();
  const s = await openSession(['--seed', '5', '--append', 'quiet'], buf.io);
  const out = (script: string): string => { const at = buf.stdout.length; s.run(script); return buf.stdout.slice(at); };
  const errOut = (script: string): string => { const at = buf.stderr.length; s.run(script); return buf.stderr.slice(at); };
  t.match(errOut('vm create big --cpus 5'), /--cpus: this VMM runs at most 4 vCPUs per VM, not 5/, 'more vCPUs than the VMM runs: refused');
  t.equal(out('vm create vm1 --cpus 2'), 'vm1: running, VMM pid 3\n');
  // vm1 took the first image: its own instance of the kernel's modules.
  const gproc = await import(imageUrl('arch/x86/include/asm/processor.js', 1)) as typeof import('../../arch/x86/include/asm/processor.js');
  const gtlb = await import(imageUrl('arch/x86/mm/tlb.js', 1)) as typeof import('../../arch/x86/mm/tlb.js');
  const gsmp = await import(imageUrl('arch/x86/kernel/smp.js', 1)) as typeof import('../../arch/x86/kernel/smp.js');
  t.equal(gproc.nr_cpu_ids(), 2, "the guest's kernel instance has two CPUs");

  t.equal(out("vm exec vm1 'cat /proc/cpuinfo | grep -c processor'"), '2\n');
  const dmesg = out("vm exec vm1 'dmesg'");
  t.match(dmesg, /smpboot: x86: Booting SMP configuration:\n.*\.\.\.\. node  #0, CPUs:      #1\n.*smp: Brought up 1 node, 2 CPUs\n.*smpboot: Total of 2 processors activated \(8000\.00 BogoMIPS\)\n/);
  t.notMatch(dmesg, /x86\/tme|do_boot_cpu failed/, 'detect_tme ran on each vCPU and found no TME'); // absence is the point
  const info = out("vm exec vm1 'cat /proc/cpuinfo'");
  t.match(info, /processor\t: 1\n[^]*apicid\t\t: 1\n/, 'CPU 1 identified itself (APIC ID 1)');
  t.equal(info.split('\n').filter((l) => l.startsWith('flags') && !/ tme| pconfig/.test(l)).length, 2, 'no tme/pconfig on either CPU');
  t.ok(gsmp.call_function_interrupts()[1] > 0, 'CPU 1 took function-call IPIs');

  const psr = out("vm exec vm1 'ps'").trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/)[3]);
  t.ok(psr.includes('0') && psr.includes('1'), 'processes on both vCPUs');

  // A shootdown by IPI: the page is written on CPU 1, unmapped on CPU 0 while CPU 1 still
  // has the mm loaded (lazily); back on CPU 1 without a CR3 write, only the flush makes
  // the read fault.
  const before = { ...gtlb.tlb_stats };
  const A = '0x7effffffc000';
  const r = out(`vm exec vm1 'taskset -pc 1 $$ >/dev/null; mmap 0x4000; write ${A} x; read ${A} 1; ` +
    `taskset -pc 0 $$ >/dev/null; munmap ${A} 0x4000; taskset -pc 1 $$ >/dev/null; read ${A} 1'`);
  t.equal(r, '0x7effffffc000\nx\n', 'mapped, written and read on CPU 1; nothing read after the munmap');
  t.equal(gtlb.tlb_stats.nr_tlb_remote_flush - before.nr_tlb_remote_flush, 1, 'one remote flush');
  t.equal(gtlb.tlb_stats.nr_tlb_remote_flush_received - before.nr_tlb_remote_flush_received, 1, 'CPU 1 received it');
  t.equal(gtlb.tlb_stats.nr_tlb_local_flush_all - before.nr_tlb_local_flush_all, 2, 'a full flush on each CPU (tables freed)');
  t.match(buf.stderr, /Segmentation fault\n$/, 'the read on CPU 1 after the shootdown faults');

  // What one stack cannot do: CPU 0 waits while the command's process runs on CPU 1.
  const at = buf.stdout.length;
  const e2 = errOut(`vm exec vm1 'taskset -pc 1 $$ >/dev/null; rdmsr -p 1 0x10 >/dev/null && echo cpu1 ok; rdmsr -p 0 0x10; taskset -pc 2 $$'`);
  t.equal(buf.stdout.slice(at), 'cpu1 ok\n', "the process's own CPU answers");
  t.match(e2, /^rdmsr: pread: Resource deadlock avoided\ntaskset: failed to set pid \d+'s affinity: Invalid argument\n$/,
    'a call needing the waiting CPU 0 is refused (EDEADLK); an offline CPU is EINVAL');

  s.run('vm destroy vm1');
  t.end();
});
