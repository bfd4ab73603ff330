/**
 * The PDE cache (arch/x86/hw/psc.ts, SDM Vol. 3A §4.10.3): a TLB miss in a 2 MiB region
 * whose PDE the cache holds reads only the PTE; the cached PDE stays in use after
 * software changes the PDE in memory, until MOV to CR3 or any INVLPG drops the cache;
 * the rights the upper levels combined to still apply.
 */
import t from 'tap';
import { Fault, X86_CR0_PG, X86_PF_PROT, X86_PF_USER, X86_TRAP_PF } from '../../arch/x86/hw/isa.js';
import { COST } from '../../arch/x86/hw/clock.js';
import type { Machine } from '../../arch/x86/hw/machine.js';
import { bytes, machine } from './helpers.js';

const P = 1, RW = 2, US = 4;
const PML4 = 0x300000, PDPT = 0x301000, PD = 0x302000, PT_A = 0x303000, PT_B = 0x304000;
/** Pages: X and Y through PT_A (VA 0x400000, 0x401000), Z through PT_B (VA 0x401000). */
const X = 0x500000, Y = 0x501000, Z = 0x502000;

/** Tables for the region at VA 0x400000 (PD index 2); the PML4E's U/S as `pml4User`. Paging on at CPL 0. */
function setup(pml4User = true): Machine {
  const m = machine();
  const cpu = m.cpus[0];
  for (const pa of [PML4, PDPT, PD, PT_A, PT_B]) cpu.fill(pa, 0, 4096);
  cpu.store64(PML4, BigInt(PDPT | P | RW | (pml4User ? US : 0)));
  cpu.store64(PDPT, BigInt(PD | P | RW | US));
  cpu.store64(PD + 2 * 8, BigInt(PT_A | P | RW | US));
  cpu.store64(PT_A, BigInt(X | P | RW | US));
  cpu.store64(PT_A + 8, BigInt(Y | P | RW | US));
  cpu.store64(PT_B + 8, BigInt(Z | P | RW | US));
  cpu.write(X, bytes('page X')); cpu.write(Y, bytes('page Y')); cpu.write(Z, bytes('page Z'));
  cpu.writeCr3(PML4);
  cpu.writeCr0(X86_CR0_PG);
  return m;
}

function read6(m: Machine, va: number): string {
  const b = new Uint8Array(6);
  m.cpus[0].read(va, b);
  return new TextDecoder().decode(b);
}

/** Point the region's PDE at PT_B in memory, as software would (no invalidation). */
function repointPde(m: Machine): void { m.cpus[0].physStore32(PD + 2 * 8, PT_B | P | RW | US); }

t.test('a changed PDE is not seen until an invalidation drops the cached one', (t) => {
  const m = setup();
  t.equal(read6(m, 0x400000), 'page X', 'the walk through PT_A (and the PDE cache filled)');
  repointPde(m);
  t.equal(read6(m, 0x401000), 'page Y', 'a TLB miss in the region still walks from the cached PDE: PT_A');
  m.cpus[0].invlpg(0x401000);
  t.equal(read6(m, 0x401000), 'page Z', 'INVLPG drops the PDE cache: the walk reads the new PDE');
  t.end();
});

t.test('INVLPG of any address, and MOV to CR3, drop every cached PDE', (t) => {
  for (const how of ['invlpg elsewhere', 'cr3'] as const) {
    const m = setup();
    read6(m, 0x400000);
    repointPde(m);
    if (how === 'cr3') m.cpus[0].writeCr3(PML4);
    else m.cpus[0].invlpg(0x7f000000); // not in the region, not mapped at all
    t.equal(read6(m, 0x401000), 'page Z', `${how}: the walk reads the new PDE`);
  }
  t.end();
});

t.test('the upper levels\' rights hold on a walk that starts from the cache', (t) => {
  const m = setup(false); // PML4E supervisor-only
  const cpu = m.cpus[0];
  t.equal(read6(m, 0x400000), 'page X', 'CPL 0 walks and fills the cache');
  cpu.cpl = 3;
  try {
    const e = t.throws(() => read6(m, 0x401000)) as unknown as Fault;
    t.ok(e instanceof Fault && e.vector === X86_TRAP_PF, '#PF');
    t.equal(e.errorCode, X86_PF_PROT | X86_PF_USER, 'a protection fault at CPL 3, as the full walk gives');
  } finally { cpu.cpl = 0; }
  t.end();
});

t.test('a walk from the cache loads one entry and is charged one level', (t) => {
  const m = setup();
  const cpu = m.cpus[0];
  read6(m, 0x400000);
  read6(m, 0x401000); // every entry's A bit set: the walks below store none
  const cost = (): { refs: number; cycles: number } => {
    const c = m.counters, r0 = c.cacheHits + c.cacheMisses, t0 = m.clock.cycles;
    read6(m, 0x401000);
    return { refs: c.cacheHits + c.cacheMisses - r0, cycles: m.clock.cycles - t0 };
  };
  cpu.invlpg(0x401000); // no TLB entry for 0x401000, no cached PDE
  const full = cost(); // a whole walk
  cpu.invlpg(0x401000);
  cpu.invlpg(0x400000);
  read6(m, 0x400000); // a whole walk fills the cache; 0x401000 has no TLB entry
  const fromCache = cost();
  t.equal(full.refs - fromCache.refs, 6, 'three entries fewer, two 32-bit loads each');
  t.equal(full.cycles - fromCache.cycles, 3 * COST.walkLevel + 6 * COST.cacheHit, 'three walk levels and six cache hits less');
  t.end();
});
