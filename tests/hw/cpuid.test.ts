/**
 * CPUID leaves of the machine: vendor, signature, features, topology, TME/PCONFIG
 * enumeration (on and off), frequency, PCONFIG targets, extended leaves, out-of-range.
 */
import t from 'tap';
import { makeConfig } from '../../arch/x86/hw/config.js';
import { apicId, coreShift, cpuid } from '../../arch/x86/hw/cpuid.js';
import type { CpuidRegs } from '../../arch/x86/hw/isa.js';

function str(...regs: number[]): string {
  let s = '';
  for (const r of regs) for (let i = 0; i < 4; i++) s += String.fromCharCode(Math.floor(r / 2 ** (8 * i)) % 256);
  return s;
}

function isU32(r: CpuidRegs): boolean {
  return [r.eax, r.ebx, r.ecx, r.edx].every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32);
}

const bit = (v: number, n: number): number => Math.floor(v / 2 ** n) % 2;
const field = (v: number, hi: number, lo: number): number => Math.floor(v / 2 ** lo) % 2 ** (hi - lo + 1);

t.test('leaf 0: max basic leaf and GenuineIntel', (t) => {
  const r = cpuid(makeConfig(), 0, 0, 0, 0);
  t.equal(r.eax, 0x1b);
  t.equal(str(r.ebx, r.edx, r.ecx), 'GenuineIntel');
  t.equal(r.ebx, 0x756e6547);
  t.equal(r.edx, 0x49656e69);
  t.equal(r.ecx, 0x6c65746e);
  t.end();
});

t.test('leaf 1: family/model/stepping decode to Ice Lake-SP 6/0x6A/6', (t) => {
  const { eax } = cpuid(makeConfig(), 0, 0, 1, 0);
  t.equal(eax, 0x000606a6);
  const stepping = field(eax, 3, 0);
  const model = field(eax, 7, 4);
  const family = field(eax, 11, 8);
  const extModel = field(eax, 19, 16);
  const extFamily = field(eax, 27, 20);
  // SDM decode: DisplayFamily = family (+ extFamily if family == 0xF);
  // DisplayModel = extModel << 4 + model when family is 6 or 0xF.
  const dispFamily = family === 0xf ? family + extFamily : family;
  const dispModel = family === 6 || family === 0xf ? extModel * 16 + model : model;
  t.equal(dispFamily, 6);
  t.equal(dispModel, 0x6a);
  t.equal(stepping, 6);
  t.equal(field(eax, 13, 12), 0, 'processor type: original OEM');
  t.equal(field(eax, 31, 28), 0, 'reserved');
  t.end();
});

t.test('leaf 1: EBX APIC ID, logical processor count, CLFLUSH size', (t) => {
  const cfg = makeConfig({ packages: 2, cpusPerPackage: 4 });
  const r = cpuid(cfg, 1, 3, 1, 0);
  t.equal(field(r.ebx, 15, 8) * 8, 64, 'CLFLUSH line size 64 bytes');
  t.equal(field(r.ebx, 23, 16), 4, 'addressable logical processor IDs per package');
  t.equal(field(r.ebx, 31, 24), apicId(cfg, 1, 3), 'initial APIC ID');
  t.equal(field(r.ebx, 31, 24), 7);
  t.equal(field(r.ebx, 7, 0), 0, 'brand index');
  const cfg3 = makeConfig({ cpusPerPackage: 3 });
  t.equal(field(cpuid(cfg3, 0, 0, 1, 0).ebx, 23, 16), 4, 'rounded up to a power of two');
  // A large APIC ID keeps the register uint32 (bit 31 set).
  const big = makeConfig({ packages: 200, cpusPerPackage: 1 });
  const rb = cpuid(big, 199, 0, 1, 0);
  t.ok(isU32(rb), 'uint32 registers');
  t.equal(field(rb.ebx, 31, 24), 199);
  t.end();
});

t.test('leaf 1: feature flags a Linux kernel looks for', (t) => {
  const r = cpuid(makeConfig(), 0, 0, 1, 0);
  const edx: Record<string, number> = {
    fpu: 0, de: 2, pse: 3, tsc: 4, msr: 5, pae: 6, mce: 7, cx8: 8, apic: 9, sep: 11, mtrr: 12,
    pge: 13, mca: 14, cmov: 15, pat: 16, pse36: 17, clflush: 19, mmx: 23, fxsr: 24, sse: 25, sse2: 26, ht: 28,
  };
  for (const [name, b] of Object.entries(edx)) t.equal(bit(r.edx, b), 1, `EDX ${name}`);
  const ecx: Record<string, number> = {
    sse3: 0, pclmulqdq: 1, ssse3: 9, cx16: 13, pcid: 17, sse4_1: 19, sse4_2: 20, x2apic: 21,
    movbe: 22, popcnt: 23, tsc_deadline: 24, aes: 25,
  };
  for (const [name, b] of Object.entries(ecx)) t.equal(bit(r.ecx, b), 1, `ECX ${name}`);
  t.equal(bit(r.ecx, 31), 0, 'no hypervisor bit: bare metal');
  t.equal(bit(r.edx, 10), 0, 'EDX[10] reserved');
  t.equal(bit(r.edx, 20), 0, 'EDX[20] reserved');
  t.ok(isU32(r), 'uint32 registers');
  t.end();
});

t.test('leaf 7: TME_EN and PCONFIG follow cfg.cpu', (t) => {
  for (const tme of [false, true]) {
    for (const pconfig of [false, true]) {
      const r = cpuid(makeConfig({ cpu: { tme, pconfig } }), 0, 0, 7, 0);
      t.equal(bit(r.ecx, 13), tme ? 1 : 0, `ECX[13] TME_EN tme=${tme}`);
      t.equal(bit(r.edx, 18), pconfig ? 1 : 0, `EDX[18] PCONFIG pconfig=${pconfig}`);
      t.equal(r.eax, 0, 'max subleaf 0');
    }
  }
  const r = cpuid(makeConfig(), 0, 0, 7, 0);
  for (const [name, b] of Object.entries({ fsgsbase: 0, smep: 7, erms: 9, invpcid: 10, smap: 20, clflushopt: 23, clwb: 24 })) {
    t.equal(bit(r.ebx, b), 1, `EBX ${name}`);
  }
  t.same(cpuid(makeConfig(), 0, 0, 7, 1), { eax: 0, ebx: 0, ecx: 0, edx: 0 }, 'subleaf 1 is empty');
  t.end();
});

t.test('leaf 0BH topology: package = x2APIC ID >> core shift', (t) => {
  for (const [packages, per] of [[2, 2], [2, 1], [4, 3], [3, 8], [1, 5]]) {
    const cfg = makeConfig({ packages, cpusPerPackage: per });
    const seen = new Set<number>();
    for (let p = 0; p < packages; p++) {
      for (let th = 0; th < per; th++) {
        const smt = cpuid(cfg, p, th, 0xb, 0);
        const core = cpuid(cfg, p, th, 0xb, 1);
        const inv = cpuid(cfg, p, th, 0xb, 2);
        const id = apicId(cfg, p, th);
        t.equal(smt.edx, id, 'x2APIC ID in EDX (SMT level)');
        t.equal(core.edx, id, 'x2APIC ID in EDX (core level)');
        t.equal(inv.edx, id, 'x2APIC ID in EDX (invalid level)');
        t.equal(field(smt.ecx, 15, 8), 1, 'subleaf 0: SMT level');
        t.equal(field(smt.ecx, 7, 0), 0);
        t.equal(field(smt.eax, 4, 0), 0, 'one thread per core');
        t.equal(field(smt.ebx, 15, 0), 1);
        t.equal(field(core.ecx, 15, 8), 2, 'subleaf 1: core level');
        t.equal(field(core.ecx, 7, 0), 1);
        t.equal(field(core.ebx, 15, 0), per, 'logical CPUs per package');
        const shift = field(core.eax, 4, 0);
        t.equal(shift, coreShift(cfg));
        t.ok(2 ** shift >= per, 'shift covers every CPU of the package');
        t.equal(Math.floor(id / 2 ** shift), p, 'package id from the APIC ID');
        t.equal(id % 2 ** shift, th, 'thread id from the APIC ID');
        t.equal(field(inv.ecx, 15, 8), 0, 'subleaf 2: invalid');
        t.equal(field(inv.ecx, 7, 0), 2);
        t.equal(inv.eax, 0); t.equal(inv.ebx, 0);
        t.notOk(seen.has(id), 'APIC IDs are unique');
        seen.add(id);
      }
    }
  }
  t.end();
});

t.test('leaf 16H: frequencies', (t) => {
  const r = cpuid(makeConfig(), 0, 0, 0x16, 0);
  t.same(r, { eax: 2000, ebx: 2000, ecx: 100, edx: 0 });
  t.end();
});

t.test('leaf 1BH: PCONFIG target enumeration on and off', (t) => {
  const on = makeConfig();
  t.same(cpuid(on, 0, 0, 0x1b, 0), { eax: 1, ebx: 1, ecx: 0, edx: 0 }, 'subleaf 0: target-id type, MKTME');
  t.same(cpuid(on, 0, 0, 0x1b, 1), { eax: 0, ebx: 0, ecx: 0, edx: 0 }, 'subleaf 1: invalid');
  t.same(cpuid(on, 0, 0, 0x1b, 7), { eax: 0, ebx: 0, ecx: 0, edx: 0 }, 'later subleaves invalid');
  const off = makeConfig({ cpu: { pconfig: false } });
  t.same(cpuid(off, 0, 0, 0x1b, 0), { eax: 0, ebx: 0, ecx: 0, edx: 0 }, 'pconfig off: all zero');
  // Linux's scan: stop at the first invalid subleaf; collect target ids.
  const targets: number[] = [];
  for (let sub = 0; ; sub++) {
    const r = cpuid(on, 0, 0, 0x1b, sub);
    if ((r.eax & 0xfff) === 0) break;
    for (const v of [r.ebx, r.ecx, r.edx]) if (v) targets.push(v);
  }
  t.same(targets, [1]);
  t.end();
});

t.test('extended leaves', (t) => {
  const cfg = makeConfig();
  t.equal(cpuid(cfg, 0, 0, 0x80000000, 0).eax, 0x80000008);
  const e1 = cpuid(cfg, 0, 0, 0x80000001, 0);
  t.equal(bit(e1.edx, 29), 1, 'LM');
  t.equal(bit(e1.edx, 20), 1, 'NX');
  t.equal(bit(e1.edx, 11), 1, 'SYSCALL');
  t.equal(bit(e1.edx, 26), 1, '1 GiB pages');
  t.equal(bit(e1.edx, 27), 1, 'RDTSCP');
  t.equal(bit(e1.ecx, 0), 1, 'LAHF in long mode');
  const brand = [2, 3, 4].map((i) => cpuid(cfg, 0, 0, 0x80000000 + i, 0))
    .map((r) => str(r.eax, r.ebx, r.ecx, r.edx)).join('').replace(/\0+$/, '');
  t.match(brand, /^Intel\(R\) Xeon\(R\)/);
  t.equal(bit(cpuid(cfg, 0, 0, 0x80000007, 0).edx, 8), 1, 'invariant TSC');
  for (const maxPhysAddr of [39, 46, 52]) {
    for (const tme of [false, true]) {
      const r = cpuid(makeConfig({ cpu: { maxPhysAddr, tme } }), 0, 0, 0x80000008, 0);
      t.equal(field(r.eax, 7, 0), maxPhysAddr, 'MAXPHYADDR, unchanged by MKTME');
      t.equal(field(r.eax, 15, 8), 48, 'linear address bits');
    }
  }
  t.end();
});

t.test('out-of-range and unimplemented leaves', (t) => {
  const cfg = makeConfig();
  const top0 = cpuid(cfg, 0, 0, 0x1b, 0);
  t.same(cpuid(cfg, 0, 0, 0x1c, 0), top0, 'above max basic: highest basic leaf data');
  t.same(cpuid(cfg, 0, 0, 0x40000000, 0), top0, 'hypervisor range: highest basic leaf data');
  t.same(cpuid(cfg, 0, 0, 0x80000009, 0), top0, 'above max extended: highest basic leaf data');
  t.same(cpuid(cfg, 0, 0, 0xffffffff, 1), cpuid(cfg, 0, 0, 0x1b, 1));
  t.same(cpuid(cfg, 0, 0, 0x2, 0), { eax: 0, ebx: 0, ecx: 0, edx: 0 }, 'unimplemented leaf in range');
  t.same(cpuid(cfg, 0, 0, -1 >>> 0, 0), top0);
  for (const leaf of [0, 1, 7, 0xb, 0x16, 0x1b, 0x80000000, 0x80000001, 0x80000002, 0x80000008]) {
    t.ok(isU32(cpuid(cfg, 1, 1, leaf, 0)), `leaf ${leaf.toString(16)} uint32`);
  }
  t.end();
});
