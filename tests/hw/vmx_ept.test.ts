/**
 * EPT on the machine: every entry field and level, misconfiguration against violation
 * with the qualification bits, KeyIDs in EPT entries (never reserved, and selecting the
 * key), A/D flags, the two-dimensional walk with guest paging, and the combined TLB
 * with INVEPT, guest INVLPG and CR3 loads.
 */
import t from 'tap';
import * as isa from '../../arch/x86/hw/isa.js';
import { VmxRig } from './vmx_helpers.js';
import { alias, homeNode, lineDecrypt, platformKey, programAll, CMD_DIRECT, ALG_128 } from './helpers.js';

const RAM = 0x1000000;
const WB = 6 << 3;
const RWX = 7;

/** Run one guest access on a fresh rig after `setup`; returns the exits and what the guest saw. */
function probe(setup: (r: VmxRig) => void, access: (cpu: isa.X86Cpu) => unknown): { r: VmxRig; got: unknown } {
  const r = new VmxRig();
  setup(r);
  let got: unknown = null;
  r.run((cpu) => { got = access(cpu); });
  return { r, got };
}

t.test('4 KiB, 2 MiB and 1 GiB leaves translate; RWX per access; qualification bits', (t) => {
  const r = new VmxRig();
  const c = r.cpu;
  c.store32(RAM + 0x10, 0xaaaa0001);
  c.store32(RAM + 0x1238, 0xbbbb0002);            // inside the 2 MiB page at RAM
  c.store32(0x2000000 + 0x345670, 0xcccc0003);      // 1 GiB page at HPA 0 covers it
  r.map(0x10000, RAM);                               // 4 KiB
  r.map(0x40000000 + 0x200000 * 3, RAM, RWX | WB, 2); // 2 MiB at GPA 1 GiB + 6 MiB -> RAM..RAM+2M
  r.map(0x80000000, 0, RWX | WB, 1);                 // 1 GiB at GPA 2 GiB -> HPA 0
  const got: number[] = [];
  r.run((cpu) => {
    got.push(cpu.load32(0x10010));
    got.push(cpu.load32(0x40000000 + 0x600000 + 0x1238));
    got.push(cpu.load32(0x80000000 + 0x2345670));
  });
  t.same(got.map((v) => v.toString(16)), ['aaaa0001', 'bbbb0002', 'cccc0003'], 'each leaf size maps its offset bits');
  t.same(r.reasons(), [], 'no exits');
  t.end();
});

t.test('violations: not present, and each permission; bits 0-5, 7, 8; GPA and GLA', (t) => {
  const cases: [string, number, (cpu: isa.X86Cpu) => unknown, number][] = [
    ['read, not present', 0, (cpu) => cpu.load32(0x10004), isa.EPT_VIOLATION_ACC_READ],
    ['write to R-X', 5, (cpu) => cpu.store32(0x10008, 1), isa.EPT_VIOLATION_ACC_WRITE | isa.EPT_VIOLATION_READABLE | isa.EPT_VIOLATION_EXECUTABLE],
    ['fetch from RW-', 3, (cpu) => cpu.fetch(0x1000c, 4), isa.EPT_VIOLATION_ACC_INSTR | isa.EPT_VIOLATION_READABLE | isa.EPT_VIOLATION_WRITABLE],
    ['read of execute-only', 4, (cpu) => cpu.load32(0x10000), isa.EPT_VIOLATION_ACC_READ | isa.EPT_VIOLATION_EXECUTABLE],
  ];
  for (const [name, perms, access, bits] of cases) {
    const { r } = probe((r) => { r.map(0x10000, RAM, perms ? perms | WB : 0); }, access);
    t.equal(r.exits.length, 1, `${name}: one exit, then the host shut the guest down`);
    const e = r.exits[0];
    t.equal(e.reason, isa.EXIT_REASON_EPT_VIOLATION, `${name}: exit 48`);
    t.equal(e.qual, bits | isa.EPT_VIOLATION_GVA_IS_VALID | isa.EPT_VIOLATION_GVA_TRANSLATED, `${name}: qualification`);
    t.equal(e.gpa, 0x10000 + (e.gla % 4096), `${name}: GUEST_PHYSICAL_ADDRESS`);
    t.equal(r.reason(), isa.EXIT_REASON_TRIPLE_FAULT);
  }
  const { r } = probe((r) => { r.map(0x10000, RAM, 1 | WB); r.write64(r.eptp - (r.eptp % 4096), (r.read64(r.eptp - (r.eptp % 4096)).lo & ~2) >>> 0); },
    (cpu) => cpu.store32(0x10000, 1));
  t.equal(r.exits[0].qual & 0x3f, isa.EPT_VIOLATION_ACC_WRITE | isa.EPT_VIOLATION_READABLE,
    'bits 3-5 are the AND over every level (W cleared in the PML4E)');
  t.end();
});

t.test('misconfigurations (exit 49): W without R, memory types, reserved bits per level; KeyID bits are not reserved', (t) => {
  const leafCases: [string, number, number, number][] = [
    ['write-only', 2 | WB, 0, 3], ['write+execute without read', 6 | WB, 0, 3],
    ['memory type 2', RWX | (2 << 3), 0, 3], ['memory type 3', RWX | (3 << 3), 0, 3], ['memory type 7', RWX | (7 << 3), 0, 3],
    ['bit 46 (MAXPHYADDR 46)', RWX | WB, 2 ** 46, 3], ['bit 51', RWX | WB, 2 ** 51, 3],
    ['2 MiB leaf with bit 12', RWX | WB, 0x1000, 2], ['1 GiB leaf with bit 29', RWX | WB, 2 ** 29, 1],
  ];
  for (const [name, bits, extra, level] of leafCases) {
    const { r } = probe((r) => { r.map(0x40000000, RAM - (RAM % (level === 1 ? 2 ** 30 : 2 ** 21)) + extra, bits, level); },
      (cpu) => cpu.load32(0x40000000));
    t.same(r.reasons(), [isa.EXIT_REASON_EPT_MISCONFIG], `${name}: exit 49`);
    t.equal(r.exits[0]?.qual, 0, `${name}: no qualification`);
  }
  const pml4 = (r: VmxRig): number => r.eptp - (r.eptp % 4096) + 8; // PML4E 1 covers GPA 512 GiB..
  for (const [name, bits] of [['PML4E bit 7', 0x80], ['PML4E memory-type bits', 0x30]] as const) {
    const { r } = probe((r) => { r.map(2 ** 39, RAM); r.write64(pml4(r), r.read64(pml4(r)).lo | bits, 0); },
      (cpu) => cpu.load32(2 ** 39));
    t.same(r.reasons(), [isa.EXIT_REASON_EPT_MISCONFIG], `${name}: exit 49`);
  }
  // A KeyID in the leaf: legal, and the guest reads that KeyID's view of the frame.
  const k = new Uint8Array(16).fill(7);
  const { r, got } = probe((r) => {
    programAll(r.m, 5, CMD_DIRECT, ALG_128, k, k);
    r.cpu.store32(alias(r.m, RAM, 5), 0x5ec7e7);
    r.map(0x10000, alias(r.m, RAM, 5));
  }, (cpu) => cpu.load32(0x10000));
  t.same(r.reasons(), [], 'KeyID bits (below MAXPHYADDR) are no misconfiguration');
  t.equal(got, 0x5ec7e7, 'the guest reads through the KeyID-5 alias');
  // The KeyID-5 line is still dirty in the cache: the DIMM holds the zeros it held, and a
  // KeyID-0 read (another cache line) fills from them, decrypted under the platform key.
  const dimm = r.m.probe.read(RAM, 64)!;
  t.same(dimm, new Uint8Array(64), 'DRAM: not written back yet');
  const garbage = lineDecrypt(platformKey(r.m, homeNode(r.m, RAM)), RAM, dimm);
  t.equal(r.cpu.load32(RAM), new DataView(garbage.buffer).getUint32(0, true),
    'the KeyID-0 alias of the frame is another line: D_platform(DRAM), not 0x5ec7e7');
  t.end();
});

t.test('EPT tables read under the KeyID of the entry pointing at them', (t) => {
  const r = new VmxRig();
  const k = new Uint8Array(16).fill(9);
  programAll(r.m, 2, CMD_DIRECT, ALG_128, k, k);
  r.map(0x10000, RAM);
  const root = r.eptp - (r.eptp % 4096);
  // Move the EPT PT (last level) to a KeyID-2 alias: copy it there and repoint the PDE.
  const pml4e = r.read64(root);
  const pdpt = (pml4e.lo >>> 12) * 4096;
  const pd = (r.read64(pdpt).lo >>> 12) * 4096;
  const pt = (r.read64(pd).lo >>> 12) * 4096;
  const leaf = r.read64(pt + 0x10 * 8);
  const pt2 = alias(r.m, 0x500000, 2);
  r.cpu.fill(pt2, 0, 4096);
  r.write64(pt2 + 0x10 * 8, leaf.lo, leaf.hi);
  r.write64(pd, (pt2 % 2 ** 32) + 7, Math.floor(pt2 / 2 ** 32));
  r.cpu.store32(RAM, 0x600d);
  let got = 0;
  r.run((cpu) => { got = cpu.load32(0x10000); });
  t.equal(got, 0x600d, 'a table behind a KeyID-2 pointer is read through KeyID 2');
  r.write64(pd, 0x500000 + 7, 0);
  r.cpu.vmwrite(isa.GUEST_ACTIVITY_STATE, 0);
  r.cpu.invept(isa.VMX_EPT_EXTENT_GLOBAL, 0);
  r.run((cpu) => { try { cpu.load32(0x10000); } catch { /* shut down */ } });
  t.ok(r.exits.length === 1 && [48, 49].includes(r.exits[0].reason), 'through KeyID 0 the same table is garbage: the walk fails');
  t.end();
});

t.test('the EPTP root carries a KeyID: the PML4 is read under it', (t) => {
  const r = new VmxRig();
  const k = new Uint8Array(16).fill(0x21);
  programAll(r.m, 6, CMD_DIRECT, ALG_128, k, k);
  r.map(0x10000, RAM);
  r.cpu.store32(RAM, 0xcafe);
  const root = r.eptp - (r.eptp % 4096);
  const root6 = alias(r.m, 0x510000, 6);
  const page = new Uint8Array(4096);
  r.cpu.read(root, page);
  r.cpu.write(root6, page); // the same PML4, now a KeyID-6 page
  const flags = r.eptp % 4096;
  r.cpu.vmwrite(isa.EPT_POINTER, root6 + flags);
  r.eptp = root6 + flags;
  let got = 0;
  r.run((cpu) => { got = cpu.load32(0x10000); });
  t.equal(got, 0xcafe, 'EPTP with KeyID 6 in bits 45:40: the walk starts under KeyID 6');
  t.same(r.reasons(), []);
  r.cpu.vmwrite(isa.EPT_POINTER, 0x510000 + flags); // the KeyID-0 alias of that page
  r.eptp = 0x510000 + flags;
  r.run((cpu) => { try { cpu.load32(0x10000); } catch { /* shut down */ } });
  t.ok(r.exits.length === 1 && [48, 49].includes(r.exits[0].reason), 'without the KeyID the root is garbage');
  t.end();
});

t.test('A/D flags: set on every level used, D on the leaf for a write, only with EPTP[6]', (t) => {
  const r = new VmxRig();
  const leaf = r.map(0x10000, RAM);
  const leaf2 = r.map(0x11000, RAM + 0x1000);
  r.run((cpu) => { cpu.load32(0x10000); cpu.store32(0x11000, 1); });
  t.equal(r.read64(leaf).lo & 0x300, 0x100, 'read: A, not D');
  t.equal(r.read64(leaf2).lo & 0x300, 0x300, 'write: A and D');
  t.equal(r.read64(r.eptp - (r.eptp % 4096)).lo & 0x100, 0x100, 'PML4E accessed');
  const r2 = new VmxRig();
  const l = r2.map(0x10000, RAM);
  r2.eptp -= isa.VMX_EPTP_AD_ENABLE_BIT;
  r2.cpu.vmwrite(isa.EPT_POINTER, r2.eptp);
  r2.run((cpu) => { cpu.store32(0x10000, 1); });
  t.equal(r2.read64(l).lo & 0x300, 0, 'A/D disabled: untouched');
  t.end();
});

/** Guest page tables at GPA 0x100000.., mapping GVA `gva` to GPA `gpa` (4 KiB, RW, U). */
function guestTables(cpu: isa.X86Cpu, gva: number, gpa: number, ptBase = 0x100000): number {
  const idx = (s: number): number => Math.floor(gva / 2 ** s) % 512;
  const [pml4, pdpt, pd, pt] = [ptBase, ptBase + 0x1000, ptBase + 0x2000, ptBase + 0x3000];
  for (const p of [pml4, pdpt, pd, pt]) cpu.fill(p, 0, 4096);
  cpu.store32(pml4 + idx(39) * 8, pdpt + 7);
  cpu.store32(pdpt + idx(30) * 8, pd + 7);
  cpu.store32(pd + idx(21) * 8, pt + 7);
  cpu.store32(pt + idx(12) * 8, (gpa % 2 ** 32) + 7);
  cpu.store32(pt + idx(12) * 8 + 4, Math.floor(gpa / 2 ** 32));
  return pml4;
}

t.test('the two-dimensional walk: guest tables in guest-physical memory, each read through EPT', (t) => {
  const r = new VmxRig();
  for (let i = 0; i < 4; i++) r.map(0x100000 + i * 0x1000, RAM + 0x100000 + i * 0x1000);
  r.map(0x20000, RAM + 0x20000);
  r.cpu.store32(RAM + 0x20000 + 0x44, 0xfeed);
  const got: unknown[] = [];
  r.onExit = (cpu, e) => {
    if (e.reason === isa.EXIT_REASON_EPT_VIOLATION) cpu.vmwrite(isa.GUEST_ACTIVITY_STATE, isa.GUEST_ACTIVITY_SHUTDOWN);
  };
  r.run((cpu) => {
    const cr3 = guestTables(cpu, 0x7f0000001000, 0x20000);
    // A guest PTE with bit 45 set: on the host that is a KeyID bit; here it is a GPA bit.
    cpu.store32(0x100000 + 0x3000 + 2 * 8 + 4, 0x2000);
    cpu.store32(0x100000 + 0x3000 + 2 * 8, 0x20000 + 7);
    cpu.writeCr3(cr3);
    cpu.writeCr0((isa.X86_CR0_PG | isa.X86_CR0_WP) >>> 0);
    got.push(cpu.load32(0x7f0000001044));
    try { cpu.load32(0x7f0000002000); } catch (e) { got.push(String(e)); }
  });
  t.equal(got[0], 0xfeed, 'GVA -> GPA (guest tables) -> HPA (EPT)');
  t.equal(r.exits.length, 1);
  const e = r.exits[0];
  t.equal(e.gpa, 2 ** 45 + 0x20000, 'the "KeyID" bits of the guest PTE are part of the GPA');
  t.equal(e.gla, 0x7f0000002000);
  t.equal(e.qual & (isa.EPT_VIOLATION_GVA_IS_VALID | isa.EPT_VIOLATION_GVA_TRANSLATED),
    isa.EPT_VIOLATION_GVA_IS_VALID | isa.EPT_VIOLATION_GVA_TRANSLATED, 'final translation: bits 7 and 8');
  const r3 = new VmxRig();
  for (const gpa of [0x100000, 0x102000, 0x103000]) r3.map(gpa, RAM + gpa);
  r3.cpu.fill(RAM + 0x100000, 0, 4096);
  r3.cpu.store32(RAM + 0x100000, 0x101000 + 7); // guest PML4E -> PDPT at GPA 0x101000 (not in EPT)
  r3.run((cpu) => { cpu.writeCr3(0x100000); cpu.writeCr0(isa.X86_CR0_PG >>> 0); try { cpu.load32(0x40001000); } catch { /* */ } });
  t.equal(r3.exits[0].gpa, 0x101008, 'the guest PDPTE read exits with that entry\'s GPA (PDPT + index 1 * 8)');
  t.equal(r3.exits[0].gla, 0x40001000, 'and the linear address being translated');
  t.equal(r3.exits[0].qual & 0x187, isa.EPT_VIOLATION_ACC_READ | isa.EPT_VIOLATION_GVA_IS_VALID,
    'a paging-structure access: bit 7 set, bit 8 clear');
  t.end();
});

t.test('the combined TLB: stale until INVEPT (single or all context); guest INVLPG and CR3 loads', (t) => {
  const r = new VmxRig();
  const c = r.cpu;
  c.store32(RAM, 0x1111);
  c.store32(RAM + 0x1000, 0x2222);
  const leaf = r.map(0x10000, RAM);
  const seen: number[] = [];
  const read = (cpu: isa.X86Cpu): void => { seen.push(cpu.load32(0x10000)); };
  r.run(read);
  r.write64(leaf, RAM + 0x1000 + RWX + WB, 0); // repoint, no INVEPT
  r.run(read);
  t.equal(c.invept(isa.VMX_EPT_EXTENT_CONTEXT, r.eptp), 0);
  r.run(read);
  r.write64(leaf, RAM + RWX + WB, 0);
  c.invept(isa.VMX_EPT_EXTENT_CONTEXT, r.eptp + 0x1000); // another EPTP: ours stays cached
  r.run(read);
  c.invept(isa.VMX_EPT_EXTENT_GLOBAL, 0);
  r.run(read);
  t.same(seen.map((v) => v.toString(16)), ['1111', '1111', '2222', '2222', '1111'],
    'cached across VM entries (VPID); dropped by INVEPT of this EPTP or all contexts');
  // Guest INVLPG / CR3 load drop the guest-linear entries.
  const r2 = new VmxRig();
  for (let i = 0; i < 4; i++) r2.map(0x100000 + i * 0x1000, RAM + 0x100000 + i * 0x1000);
  r2.map(0x20000, RAM + 0x20000);
  r2.map(0x21000, RAM + 0x21000);
  r2.cpu.store32(RAM + 0x20000, 0xa);
  r2.cpu.store32(RAM + 0x21000, 0xb);
  const g: number[] = [];
  r2.run((cpu) => {
    guestTables(cpu, 0x5000, 0x20000);
    cpu.store32(0x103000 + 3 * 8, 0x103000 + 7); // GVA 0x3000 -> the guest PT itself
    cpu.writeCr3(0x100000);
    cpu.writeCr0(isa.X86_CR0_PG >>> 0);
    g.push(cpu.load32(0x5000));
    cpu.store32(0x3000 + 5 * 8, 0x21000 + 7); // guest PTE now -> 0x21000
    g.push(cpu.load32(0x5000));
    cpu.invlpg(0x5000);
    g.push(cpu.load32(0x5000));
    cpu.store32(0x3000 + 5 * 8, 0x20000 + 7);
    cpu.writeCr3(0x100000);
    g.push(cpu.load32(0x5000));
  });
  t.same(g, [0xa, 0xa, 0xb, 0xa], 'stale until the guest INVLPGs, and after a CR3 load');
  t.end();
});
