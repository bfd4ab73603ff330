/**
 * VMX on the machine: the instructions' checks and results, the VMCS in memory (also at
 * a KeyID-n address), VM-entry checks and failures, exit reasons with their
 * qualifications, event injection, and guests that misbehave.
 */
import t from 'tap';
import * as isa from '../../arch/x86/hw/isa.js';
import { xtsEncrypt, addrTweak } from '../../arch/x86/hw/crypto/xts.js';
import { VmxRig, VMCS_PA, VMXON_PA } from './vmx_helpers.js';
import { alias, machine, programAll, CMD_DIRECT, ALG_128 } from './helpers.js';
import { fieldOffset } from '../../arch/x86/hw/vmx/vmcs.js';

/** What `fn` raised, as the fault's text ('#UD', '#GP(0)'), or 'ok'. */
function fault(fn: () => unknown): string {
  try { fn(); return 'ok'; } catch (e) { return e instanceof isa.Fault ? e.toString() : `error: ${String(e)}`; }
}
const RAM = 0x1000000; // host-physical base of the guest's RAM in these tests

t.test('VMX instructions: #UD outside VMX operation, #GP at CPL 3, VMXON checks', (t) => {
  const m = machine();
  const c = m.cpus[0];
  t.equal(c.cpuid(1).ecx & (1 << 5), 1 << 5, 'CPUID.1:ECX.VMX');
  t.equal(fault(() => c.vmptrld(VMCS_PA)), '#UD', 'VMPTRLD before VMXON: #UD');
  c.cpl = 3;
  t.equal(fault(() => c.vmxon(VMXON_PA)), '#GP(0)', 'CPL 3: #GP');
  c.cpl = 0;
  t.equal(c.vmxon(VMXON_PA), isa.VMX_FAIL_INVALID, 'VMXON region without the revision identifier: VMfailInvalid');
  t.equal(c.vmxon(VMXON_PA + 8), isa.VMX_FAIL_INVALID, 'unaligned: VMfailInvalid');
  c.store32(VMXON_PA, isa.VMCS_REVISION_ID);
  t.equal(c.vmxon(VMXON_PA), isa.VMX_SUCCEED);
  t.equal(c.vmxon(VMXON_PA), isa.VMX_FAIL_INVALID, 'again, no current VMCS: VMfailInvalid');
  t.equal(c.vmptrld(VMCS_PA), isa.VMX_FAIL_INVALID, 'bad revision, no current VMCS: VMfailInvalid');
  c.store32(VMCS_PA, isa.VMCS_REVISION_ID);
  t.equal(c.vmptrld(VMCS_PA), isa.VMX_SUCCEED);
  t.equal(c.vmptrst(), VMCS_PA);
  t.equal(c.vmptrld(VMXON_PA), isa.VMXERR_VMPTRLD_VMXON_POINTER, 'VMPTRLD of the VMXON region: VMfailValid(10)');
  t.equal(c.vmread(isa.VM_INSTRUCTION_ERROR), 10, 'the error number is in VM_INSTRUCTION_ERROR');
  c.store32(VMCS_PA + 0x1000, 0x7);
  t.equal(c.vmptrld(VMCS_PA + 0x1000), isa.VMXERR_VMPTRLD_INCORRECT_VMCS_REVISION_ID, 'wrong revision: VMfailValid(11)');
  t.equal(c.vmxon(VMXON_PA), isa.VMXERR_VMXON_IN_VMX_ROOT_OPERATION, 'VMXON in VMX root: VMfailValid(15)');
  t.equal(c.vmread(0x7777), -1, 'unsupported field: VMREAD fails');
  t.equal(c.vmread(isa.VM_INSTRUCTION_ERROR), isa.VMXERR_UNSUPPORTED_VMCS_COMPONENT);
  t.equal(c.vmwrite(isa.VM_EXIT_REASON, 1), isa.VMXERR_VMWRITE_READ_ONLY_VMCS_COMPONENT, 'exit information is read-only');
  t.equal(c.vmwrite(isa.GUEST_RIP, 1.5), isa.VMXERR_UNSUPPORTED_VMCS_COMPONENT, 'a non-integer value is refused');
  t.equal(c.vmwrite(isa.GUEST_IDTR_LIMIT, 0x1ffff), 0);
  t.equal(c.vmread(isa.GUEST_IDTR_LIMIT), 0x1ffff, '32-bit field keeps 32 bits');
  t.equal(c.vmwrite(isa.VIRTUAL_PROCESSOR_ID, 0x12345), 0);
  t.equal(c.vmread(isa.VIRTUAL_PROCESSOR_ID), 0x2345, '16-bit field keeps 16 bits');
  t.equal(c.invept(3, 0), isa.VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID, 'INVEPT type 3: VMfailValid(28)');
  t.equal(c.vmclear(VMCS_PA), 0);
  t.equal(c.vmptrst(), -1, 'VMCLEAR of the current VMCS leaves none');
  t.equal(c.vmxoff(), 0);
  t.equal(c.rdmsr(isa.MSR_IA32_VMX_BASIC) & 0x7fffffffn, BigInt(isa.VMCS_REVISION_ID), 'IA32_VMX_BASIC revision');
  t.equal((c.rdmsr(isa.MSR_IA32_VMX_PROCBASED_CTLS2) >> 32n) & BigInt(isa.SECONDARY_EXEC_ENABLE_PCONFIG), BigInt(isa.SECONDARY_EXEC_ENABLE_PCONFIG), 'enable PCONFIG is allowed-1');
  t.end();
});

t.test('VM entry: launch state, control and host-state checks, guest-state failure', (t) => {
  const r = new VmxRig();
  const c = r.cpu;
  t.equal(c.vmresume(), isa.VMXERR_VMRESUME_NONLAUNCHED_VMCS, 'VMRESUME of a clear VMCS: 5');
  c.vmwrite(isa.SECONDARY_VM_EXEC_CONTROL, isa.SECONDARY_EXEC_ENABLE_EPT | (1 << 2));
  t.equal(c.vmlaunch(), isa.VMXERR_ENTRY_INVALID_CONTROL_FIELD, 'an unsupported secondary control: 7');
  c.vmwrite(isa.SECONDARY_VM_EXEC_CONTROL, isa.SECONDARY_EXEC_UNRESTRICTED_GUEST);
  t.equal(c.vmlaunch(), isa.VMXERR_ENTRY_INVALID_CONTROL_FIELD, 'unrestricted guest without EPT: 7');
  c.vmwrite(isa.SECONDARY_VM_EXEC_CONTROL, isa.SECONDARY_EXEC_ENABLE_EPT | isa.SECONDARY_EXEC_UNRESTRICTED_GUEST);
  const root = r.eptp - (r.eptp % 4096);
  for (const [eptp, why] of [[root + 1 + isa.VMX_EPTP_PWL_4, 'memory type WC'], [root + 6 + 0x20, 'walk length 5'],
    [root + 6 + isa.VMX_EPTP_PWL_4 + 0x80, 'bit 7 set'], [root + 6 + isa.VMX_EPTP_PWL_4 + 2 ** 46, 'bit 46 (beyond MAXPHYADDR)']] as const) {
    c.vmwrite(isa.EPT_POINTER, eptp);
    t.equal(c.vmlaunch(), isa.VMXERR_ENTRY_INVALID_CONTROL_FIELD, `EPTP ${why}: 7`);
  }
  c.vmwrite(isa.EPT_POINTER, root + isa.VMX_EPTP_MT_UC + isa.VMX_EPTP_PWL_4);
  c.vmwrite(isa.CPU_BASED_VM_EXEC_CONTROL, (isa.CPU_BASED_ACTIVATE_SECONDARY_CONTROLS | isa.CPU_BASED_USE_MSR_BITMAPS) >>> 0);
  c.vmwrite(isa.MSR_BITMAP, 0x302010);
  t.equal(c.vmlaunch(), isa.VMXERR_ENTRY_INVALID_CONTROL_FIELD, 'MSR bitmap not 4 KiB aligned: 7');
  c.vmwrite(isa.CPU_BASED_VM_EXEC_CONTROL, isa.CPU_BASED_ACTIVATE_SECONDARY_CONTROLS >>> 0);
  const hostRip = c.vmread(isa.HOST_RIP);
  const guestCode = c.registerCode(() => {}, 'g', r.eptp);
  c.vmwrite(isa.HOST_RIP, guestCode);
  t.equal(c.vmlaunch(), isa.VMXERR_ENTRY_INVALID_HOST_STATE_FIELD, 'HOST_RIP that is guest code: 8');
  c.vmwrite(isa.HOST_RIP, hostRip);
  c.vmwrite(isa.SECONDARY_VM_EXEC_CONTROL, isa.SECONDARY_EXEC_ENABLE_EPT);
  t.equal(c.vmlaunch(), 0, 'paging off without unrestricted guest: the entry fails as a VM exit');
  t.equal(c.vmread(isa.VM_EXIT_REASON), (isa.VMX_EXIT_REASONS_FAILED_VMENTRY | isa.EXIT_REASON_INVALID_STATE) >>> 0, 'reason 33, bit 31');
  t.equal(c.vmresume(), isa.VMXERR_VMRESUME_NONLAUNCHED_VMCS, 'a failed entry leaves the VMCS clear');
  c.vmwrite(isa.SECONDARY_VM_EXEC_CONTROL, isa.SECONDARY_EXEC_ENABLE_EPT | isa.SECONDARY_EXEC_UNRESTRICTED_GUEST);
  c.vmwrite(isa.GUEST_ACTIVITY_STATE, 3);
  t.equal(c.vmlaunch(), 0);
  t.equal(c.vmread(isa.VM_EXIT_REASON), (isa.VMX_EXIT_REASONS_FAILED_VMENTRY | isa.EXIT_REASON_INVALID_STATE) >>> 0, 'activity state 3: 33');
  c.vmwrite(isa.GUEST_ACTIVITY_STATE, 0);
  t.equal(c.vmlaunch(), 0, 'good VMCS: entered');
  t.equal(c.vmread(isa.VM_EXIT_REASON), isa.EXIT_REASON_HLT, 'no code at GUEST_RIP: the outermost halt at once');
  t.equal(c.vmlaunch(), isa.VMXERR_VMLAUNCH_NONCLEAR_VMCS, 'VMLAUNCH of a launched VMCS: 4');
  t.end();
});

t.test('a VMCS at a KeyID-n address: plaintext in the cache, AES-XTS under that KeyID in DRAM', (t) => {
  const k1 = new Uint8Array(16).fill(0x5a);
  const k2 = new Uint8Array(16).fill(0xa5);
  const probe = new VmxRig();
  programAll(probe.m, 3, CMD_DIRECT, ALG_128, k1, k2);
  const vmcs = alias(probe.m, 0x380000, 3);
  const c = probe.cpu;
  c.fill(vmcs, 0, 4096);
  c.store32(vmcs, isa.VMCS_REVISION_ID);
  t.equal(c.vmptrld(vmcs), 0, 'VMPTRLD of a KeyID-3 address');
  c.vmwrite(isa.GUEST_RIP, 0x1234567);
  t.equal(c.vmread(isa.GUEST_RIP), 0x1234567);
  t.equal(c.vmclear(vmcs), 0, 'VMCLEAR writes the processor\'s copy back to the region');
  c.wbinvd();
  const off = fieldOffset(isa.GUEST_RIP)!;
  const lineOff = off - (off % 64);
  const line = new Uint8Array(64);
  c.read(vmcs + lineOff, line);
  t.equal(new DataView(line.buffer).getUint32(off - lineOff, true), 0x1234567, 'read back through the KeyID-3 alias');
  t.same(probe.m.probe.read(0x380000 + lineOff, 64), xtsEncrypt(k1, k2, addrTweak(0x380000 + lineOff), line),
    'the DIMM holds the line encrypted under KeyID 3\'s key at the KeyID-free address');
  t.end();
});

t.test('exit reasons and qualifications: CPUID, HLT, I/O, RDMSR, WRMSR, WBINVD, PCONFIG', (t) => {
  const r = new VmxRig({}, {
    primary: (isa.CPU_BASED_HLT_EXITING | isa.CPU_BASED_UNCOND_IO_EXITING | isa.CPU_BASED_ACTIVATE_SECONDARY_CONTROLS) >>> 0,
    secondary: isa.SECONDARY_EXEC_ENABLE_EPT | isa.SECONDARY_EXEC_UNRESTRICTED_GUEST | isa.SECONDARY_EXEC_WBINVD_EXITING |
      isa.SECONDARY_EXEC_ENABLE_PCONFIG,
  });
  const c = r.cpu;
  c.vmwrite(isa.PCONFIG_EXITING, 1); // exit on PCONFIG leaf 0
  r.onExit = (cpu, e) => {
    const g = cpu.vmxGuestRegs();
    if (e.reason === isa.EXIT_REASON_CPUID) { g.rax = 0x11; g.rbx = 0x22; g.rcx = 0x33; g.rdx = 0x44; }
    if (e.reason === isa.EXIT_REASON_IO_INSTRUCTION && e.qual & isa.IO_QUAL_IN) g.rax = 0xbeef;
    if (e.reason === isa.EXIT_REASON_MSR_READ) { g.rax = g.rcx + 1; g.rdx = 7; }
    if (e.reason === isa.EXIT_REASON_PCONFIG) { g.rax = 0; g.rflags |= 0; }
  };
  const seen: unknown[] = [];
  t.equal(r.run((cpu) => {
    seen.push(cpu.cpuid(0x16, 2));
    cpu.hlt();
    cpu.outw(0x3f8, 0x4142);
    seen.push(cpu.inl(0x1234));
    seen.push(cpu.rdmsr(0x981));
    cpu.wrmsr(0x10, 0x500000003n);
    cpu.wbinvd();
    seen.push(cpu.pconfig(0, 0).rax);
  }), 0);
  t.same(seen, [{ eax: 0x11, ebx: 0x22, ecx: 0x33, edx: 0x44 }, 0xbeef, 0x700000982n, 0], 'the host\'s answers reach the guest');
  t.same(r.reasons(), [10, 12, 30, 30, 31, 32, 54, 65], 'CPUID 10, HLT 12, I/O 30, RDMSR 31, WRMSR 32, WBINVD 54, PCONFIG 65');
  t.equal(r.exits[2].qual, 1 | (0x3f8 * 65536), 'OUT: size-1 = 1, direction out, port 0x3f8 in bits 31:16');
  t.equal(r.exits[3].qual, 3 | isa.IO_QUAL_IN | (0x1234 * 65536), 'IN: size-1 = 3, direction in');
  t.equal(r.reason(), isa.EXIT_REASON_HLT, 'the routine returned: the outermost halt ends VMLAUNCH');
  t.end();
});

t.test('PCONFIG with "enable PCONFIG" clear is #UD; an injected #GP faults the guest RDMSR', (t) => {
  const r = new VmxRig();
  r.onExit = (cpu, e) => {
    if (e.reason === isa.EXIT_REASON_MSR_READ) {
      cpu.vmwrite(isa.VM_ENTRY_INTR_INFO_FIELD, (isa.X86_TRAP_GP | isa.INTR_TYPE_HARD_EXCEPTION | isa.INTR_INFO_DELIVER_CODE_MASK | isa.INTR_INFO_VALID_MASK) >>> 0);
      cpu.vmwrite(isa.VM_ENTRY_EXCEPTION_ERROR_CODE, 0);
    }
  };
  const got: string[] = [];
  r.run((cpu) => {
    try { cpu.pconfig(0, 0); } catch (e) { got.push(String(e)); }
    try { cpu.rdmsr(0x982); } catch (e) { got.push(String(e)); }
    try { cpu.vmxon(0); } catch (e) { got.push(String(e)); }
  });
  t.same(got, ['#UD', '#GP(0)', '#UD'], 'PCONFIG #UD without an exit; RDMSR #GP as injected; no nested VMX');
  t.same(r.reasons(), [31], 'only the RDMSR exited');
  t.end();
});

t.test('event injection through the guest IDT; bad gates and escaping errors shut the guest down', (t) => {
  const r = new VmxRig();
  const c = r.cpu;
  r.map(0, RAM);
  const log: string[] = [];
  const handler = c.registerCode(() => log.push('irq'), 'irq', r.eptp);
  t.equal(r.run((cpu) => {
    const gate = new Uint8Array(16);
    const dv = new DataView(gate.buffer);
    dv.setUint16(0, handler & 0xffff, true);
    dv.setUint16(6, Math.floor(handler / 65536) & 0xffff, true);
    dv.setUint8(5, 0x8e);
    cpu.write(0x100 + 0x24 * 16, gate);
    cpu.lidt(0x100, 0xfff);
    log.push('boot');
  }), 0);
  t.equal(r.reason(), isa.EXIT_REASON_HLT);
  c.vmwrite(isa.VM_ENTRY_INTR_INFO_FIELD, (0x24 | isa.INTR_TYPE_EXT_INTR | isa.INTR_INFO_VALID_MASK) >>> 0);
  t.equal(c.vmresume(), 0);
  t.same(log, ['boot', 'irq'], 'vector 0x24 ran its handler on VM entry, then the vCPU halted again');
  t.equal(c.vmread(isa.GUEST_ACTIVITY_STATE), isa.GUEST_ACTIVITY_HLT);
  c.vmwrite(isa.VM_ENTRY_INTR_INFO_FIELD, (0x25 | isa.INTR_INFO_VALID_MASK) >>> 0);
  t.equal(c.vmresume(), 0);
  t.equal(c.vmread(isa.VM_EXIT_REASON), isa.EXIT_REASON_TRIPLE_FAULT, 'a not-present gate: triple fault (exit 2)');
  // A gate aimed at host code (the HOST_RIP routine): not code of this guest.
  const r1 = new VmxRig();
  const hostCode = r1.cpu.vmread(isa.HOST_RIP);
  r1.map(0, RAM);
  r1.run((cpu) => {
    const gate = new Uint8Array(16);
    const dv = new DataView(gate.buffer);
    dv.setUint16(0, hostCode & 0xffff, true);
    dv.setUint8(5, 0x8e);
    cpu.write(0x100 + 0x30 * 16, gate);
    cpu.lidt(0x100, 0xfff);
  });
  r1.cpu.vmwrite(isa.VM_ENTRY_INTR_INFO_FIELD, (0x30 | isa.INTR_INFO_VALID_MASK) >>> 0);
  let hostRan = 0;
  r1.onExit = () => { hostRan++; };
  t.equal(r1.cpu.vmresume(), 0);
  t.equal(r1.reason(), isa.EXIT_REASON_TRIPLE_FAULT, 'an IDT gate holding a host code address: the guest shuts down');
  t.equal(hostRan, 0, 'and no host code ran in the guest');
  const r2 = new VmxRig();
  r2.run(() => { throw new Error('guest bug'); });
  t.equal(r2.reason(), isa.EXIT_REASON_TRIPLE_FAULT, 'an error escaping guest code: triple fault, not a host exception');
  const r3 = new VmxRig();
  let swallowed = 0;
  r3.run((cpu) => { for (let i = 0; i < 3; i++) { try { cpu.store32(0x5000, 1); } catch { swallowed++; } } });
  t.equal(r3.reason(), isa.EXIT_REASON_TRIPLE_FAULT, 'unmapped GPA with a host that gives up: shutdown');
  t.equal(swallowed, 3, 'a guest swallowing the shutdown cannot go on: every instruction throws again');
  const r4 = new VmxRig();
  r4.onExit = () => { throw new Error('host bug'); };
  t.throws(() => r4.run((cpu) => { cpu.cpuid(0); }), /host bug/, 'a host handler error reaches the host, through the guest');
  t.equal(r4.cpu.vmx.nonRoot, null, 'and the CPU is back in VMX root operation');
  t.end();
});

t.test('the MSR bitmap is read under the KeyID of its address', (t) => {
  const k = new Uint8Array(16).fill(0x33);
  const r = new VmxRig({}, {
    primary: (isa.CPU_BASED_USE_MSR_BITMAPS | isa.CPU_BASED_ACTIVATE_SECONDARY_CONTROLS) >>> 0,
  });
  const c = r.cpu;
  programAll(r.m, 4, CMD_DIRECT, ALG_128, k, k);
  const bitmap = alias(r.m, 0x390000, 4);
  c.fill(bitmap, 0, 4096);
  c.store8(bitmap + (0x10 >>> 3), 1 << (0x10 & 7)); // read-exit for MSR 0x10 only
  c.vmwrite(isa.MSR_BITMAP, bitmap);
  const got: string[] = [];
  r.onExit = (cpu) => { const g = cpu.vmxGuestRegs(); g.rax = 42; g.rdx = 0; };
  r.run((cpu) => {
    got.push(String(cpu.rdmsr(0x10)));
    try { cpu.rdmsr(0x11); } catch (e) { got.push(String(e)); }
  });
  t.same(got, ['42', '#GP(0)'], 'MSR 0x10 exits (bit set under KeyID 4); 0x11 (bit clear) goes to the CPU, which has no such MSR');
  t.same(r.reasons(), [isa.EXIT_REASON_MSR_READ]);
  t.end();
});
