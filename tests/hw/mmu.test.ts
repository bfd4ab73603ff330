/**
 * The MMU: a 4-level walk whose every entry (and CR3) may carry a KeyID, permission
 * checks, A/D bits, #PF error codes and CR2, and a TLB that must be invalidated.
 */
import t, { type Test } from 'tap';
import { Fault, X86_CR0_PG, X86_CR0_WP, X86_PF_INSTR, X86_PF_PROT, X86_PF_RSVD, X86_PF_USER,
  X86_PF_WRITE, X86_TRAP_GP, X86_TRAP_PF } from '../../arch/x86/hw/isa.js';
import type { Cpu } from '../../arch/x86/hw/cpu.js';
import type { Machine } from '../../arch/x86/hw/machine.js';
import { ALG_128, CMD_RANDOM, alias, bytes, lineDecrypt, machine, platformKey, programAll } from './helpers.js';

const P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80;
const NX = 2n ** 63n;

/** Write a 64-bit entry at physical `pa` with paging off. */
function entry(cpu: Cpu, pa: number, target: number, flags: number, nx = false): void {
  cpu.store64(pa, BigInt(target) | BigInt(flags) | (nx ? NX : 0n));
}

interface Tables { pml4: number; pdpt: number; pd: number; pt: number }

/**
 * Map VA 0x400000 (4 KiB) to `target`, with tables at 0x300000.. under `tableKeyId`.
 * Every table pointer and CR3 carry that KeyID.
 */
function build(m: Machine, target: number, leafFlags: number, tableKeyId = 0, nx = false): Tables {
  const cpu = m.cpus[0];
  const k = (pa: number): number => alias(m, pa, tableKeyId);
  const tb: Tables = { pml4: 0x300000, pdpt: 0x301000, pd: 0x302000, pt: 0x303000 };
  for (const pa of Object.values(tb)) cpu.fill(k(pa), 0, 4096);
  entry(cpu, k(tb.pml4), k(tb.pdpt), P | RW | US);
  entry(cpu, k(tb.pdpt), k(tb.pd), P | RW | US);
  entry(cpu, k(tb.pd + 2 * 8), k(tb.pt), P | RW | US); // VA 0x400000: PD index 2
  entry(cpu, k(tb.pt), target, leafFlags, nx);
  return tb;
}

function pagingOn(m: Machine, cr3: number, cpu: Cpu = m.cpus[0]): void {
  cpu.writeCr3(cr3);
  cpu.writeCr0(X86_CR0_PG | X86_CR0_WP);
}

function fault(t: Test, fn: () => unknown, vector: number, code?: number): Fault {
  const e = t.throws(fn) as unknown as Fault;
  t.ok(e instanceof Fault, 'a typed fault');
  t.equal(e.vector, vector, e.toString());
  if (code !== undefined) t.equal(e.errorCode, code, 'error code');
  return e;
}

t.test('translation reaches the target; the leaf KeyID selects the key', (t) => {
  const m = machine();
  programAll(m, 9, CMD_RANDOM, ALG_128);
  const target = alias(m, 0x500000, 9);
  const tb = build(m, target, P | RW);
  m.cpus[0].write(target, bytes('via-physical'));
  pagingOn(m, tb.pml4);
  const b = new Uint8Array(12);
  m.cpus[0].read(0x400000, b);
  t.same(b, bytes('via-physical'));
  t.end();
});

t.test('tables under a KeyID: CR3 and every level carry it', (t) => {
  const m = machine();
  programAll(m, 12, CMD_RANDOM, ALG_128);
  const tb = build(m, 0x500000, P | RW, 12);
  const cpu = m.cpus[0];
  cpu.write(0x500000, bytes('k0 data'));
  pagingOn(m, alias(m, tb.pml4, 12));
  const b = new Uint8Array(7);
  cpu.read(0x400000, b);
  t.same(b, bytes('k0 data'), 'walk through KeyID-12 tables works');
  // The same tables through a CR3 without the KeyID decrypt to garbage entries.
  cpu.writeCr3(tb.pml4);
  t.throws(() => cpu.read(0x400000, b), 'garbage tables do not translate');
  t.end();
});

t.test('#PF error codes and CR2', (t) => {
  const m = machine();
  const tb = build(m, 0x500000, P); // read-only, supervisor
  const cpu = m.cpus[0];
  pagingOn(m, tb.pml4);
  fault(t, () => cpu.store8(0x400010, 1), X86_TRAP_PF, X86_PF_PROT | X86_PF_WRITE);
  t.equal(cpu.readCr2(), 0x400010, 'CR2 holds the address');
  fault(t, () => cpu.load8(0x401000), X86_TRAP_PF, 0);
  t.equal(cpu.readCr2(), 0x401000);
  cpu.cpl = 3;
  fault(t, () => cpu.load8(0x400000), X86_TRAP_PF, X86_PF_PROT | X86_PF_USER);
  cpu.cpl = 0;
  t.end();
});

t.test('CR0.WP off lets the kernel write read-only pages', (t) => {
  const m = machine();
  const tb = build(m, 0x500000, P);
  const cpu = m.cpus[0];
  cpu.writeCr3(tb.pml4);
  cpu.writeCr0(X86_CR0_PG);
  cpu.store8(0x400000, 5);
  t.equal(cpu.load8(0x400000), 5);
  t.end();
});

t.test('NX and instruction fetch', (t) => {
  const m = machine();
  const tb = build(m, 0x500000, P | RW | US, 0, true);
  const cpu = m.cpus[0];
  cpu.store8(0x500000, 0);
  pagingOn(m, tb.pml4);
  cpu.cpl = 3;
  t.equal(cpu.load8(0x400000), 0, 'data read fine');
  fault(t, () => cpu.fetch(0x400000, 4), X86_TRAP_PF, X86_PF_PROT | X86_PF_USER | X86_PF_INSTR);
  t.end();
});

t.test('reserved bits above MAXPHYADDR raise #PF with RSVD', (t) => {
  const m = machine();
  const tb = build(m, 0x500000, P | RW);
  const cpu = m.cpus[0];
  cpu.store64(tb.pt, BigInt(0x500000) | BigInt(P | RW) | (1n << 47n)); // bit 47 > MAXPHYADDR 46
  pagingOn(m, tb.pml4);
  fault(t, () => cpu.load8(0x400000), X86_TRAP_PF, X86_PF_PROT | X86_PF_RSVD);
  t.end();
});

t.test('A and D bits are set by the walk', (t) => {
  const m = machine();
  const tb = build(m, 0x500000, P | RW);
  const cpu = m.cpus[0];
  pagingOn(m, tb.pml4);
  cpu.load8(0x400000);
  cpu.writeCr0(0); // paging off to look at the entry
  let pte = Number(cpu.load64(tb.pt) & 0xfffn);
  t.ok(pte & A, 'accessed');
  t.notOk(pte & D, 'not dirty after a read');
  t.ok(Number(cpu.load64(tb.pml4) & 0xfffn) & A, 'upper levels accessed');
  pagingOn(m, tb.pml4);
  cpu.store8(0x400000, 1);
  cpu.writeCr0(0);
  pte = Number(cpu.load64(tb.pt) & 0xfffn);
  t.ok(pte & D, 'dirty after a write');
  t.end();
});

t.test('2 MiB and 1 GiB pages', (t) => {
  const m = machine();
  const cpu = m.cpus[0];
  for (const pa of [0x300000, 0x301000, 0x302000]) cpu.fill(pa, 0, 4096);
  entry(cpu, 0x300000, 0x301000, P | RW);
  entry(cpu, 0x301000, 0, P | RW | PS);          // VA 0..1G -> PA 0 (1 GiB page)
  entry(cpu, 0x301000 + 8, 0x302000, P | RW);    // VA 1G..
  entry(cpu, 0x302000, 0x600000, P | RW | PS);   // VA 1G..1G+2M -> PA 6M (2 MiB page)
  cpu.write(0x600000 + 0x1234, bytes('huge'));
  pagingOn(m, 0x300000);
  const b = new Uint8Array(4);
  cpu.read(0x600000 + 0x1234, b);
  t.same(b, bytes('huge'), '1 GiB page');
  cpu.read(2 ** 30 + 0x1234, b);
  t.same(b, bytes('huge'), '2 MiB page');
  t.end();
});

t.test('the TLB keeps stale translations until INVLPG or a CR3 write', (t) => {
  const m = machine();
  const tb = build(m, 0x500000, P | RW);
  const cpu = m.cpus[0];
  cpu.write(0x500000, bytes('A'));
  cpu.write(0x501000, bytes('B'));
  pagingOn(m, tb.pml4);
  t.equal(cpu.load8(0x400000), 0x41);
  // Retarget the PTE through a second CPU's physical view (paging off there).
  const other = m.cpus[1];
  other.store64(tb.pt, BigInt(0x501000) | BigInt(P | RW | A | D));
  t.equal(cpu.load8(0x400000), 0x41, 'stale TLB entry still used');
  cpu.invlpg(0x400000);
  t.equal(cpu.load8(0x400000), 0x42, 'INVLPG picks up the new entry');
  other.store64(tb.pt, BigInt(0x500000) | BigInt(P | RW | A | D));
  cpu.writeCr3(tb.pml4);
  t.equal(cpu.load8(0x400000), 0x41, 'CR3 reload too');
  t.end();
});

t.test('instructions check before they change anything', (t) => {
  const m = machine();
  const tb = build(m, 0x500000, P | RW);
  const cpu = m.cpus[0];
  pagingOn(m, tb.pml4);
  cpu.write(0x400ff0, new Uint8Array(16).fill(1));
  // A write crossing into the unmapped next page faults and writes nothing.
  fault(t, () => cpu.write(0x400ff8, new Uint8Array(16).fill(2)), X86_TRAP_PF);
  const b = new Uint8Array(16);
  cpu.read(0x400ff0, b);
  t.same(b, new Uint8Array(16).fill(1));
  fault(t, () => cpu.load8(2 ** 48), X86_TRAP_GP, 0);
  cpu.cpl = 3;
  fault(t, () => cpu.wrmsr(0x982, 0n), X86_TRAP_GP);
  fault(t, () => cpu.writeCr3(0), X86_TRAP_GP);
  t.end();
});

t.test('a 52-bit machine: KeyIDs in bits 51:46 through the page tables', (t) => {
  const m = machine({ cpu: { maxPhysAddr: 52 } });
  t.same(programAll(m, 40, CMD_RANDOM, ALG_128), [0, 0]);
  const target = 40 * 2 ** 46 + 0x500000;
  const tb = build(m, target, P | RW);
  pagingOn(m, tb.pml4);
  const cpu = m.cpus[0];
  cpu.write(0x400000, bytes('top-bits'));
  for (let o = 0; o < 64; o += 64) cpu.clflush(0x400000 + o);
  const b = new Uint8Array(8);
  cpu.read(0x400000, b);
  t.same(b, bytes('top-bits'));
  t.notOk(m.probe.scan(0x500000, 4096, bytes('top-bits')), 'ciphertext in DRAM');
  cpu.writeCr0(0);
  const viaK0 = new Uint8Array(8);
  cpu.read(0x500000, viaK0);
  t.same(viaK0, lineDecrypt(platformKey(m, 0), 0x500000, m.probe.read(0x500000, 64)!).subarray(0, 8),
    'the KeyID-0 alias reads the KeyID-40 ciphertext decrypted under the TME key');
  t.end();
});
