/**
 * The VT-d unit on the bare machine (paging off, linear = physical), programmed the
 * way a driver does it, through its MMIO registers: every context-entry and
 * second-level field, the KeyID in every pointer, the IOTLB and context cache staying
 * stale until invalidated, each fault reason and the fault-recording registers.
 */
import t, { type Test } from 'tap';
import { addrTweak, xtsEncrypt } from '../../arch/x86/hw/crypto/xts.js';
import type { Cpu } from '../../arch/x86/hw/cpu.js';
import { VTD_REG_BASE } from '../../arch/x86/hw/iommu/vtd.js';
import type { Machine } from '../../arch/x86/hw/machine.js';
import { alias, ALG_128, CMD_DIRECT, machine, programAll, type Patch } from './helpers.js';

const SID = 0x18; // 00:03.0
const ROOT = 0x100000, CTX = 0x101000, L4 = 0x102000, L3 = 0x103000, L2 = 0x104000, L1 = 0x105000;
const DATA = 0x300000;
const R = 1, W = 2, PS = 0x80;
const IOVA = 0x40201000; // L4 0, L3 1, L2 1, L1 1

interface Rig { m: Machine; cpu: Cpu }

function put(cpu: Cpu, pa: number, lo: number, hi = 0): void {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setUint32(0, lo >>> 0, true);
  v.setUint32(4, hi >>> 0, true);
  cpu.write(pa, b);
}
/** An entry pointing at `addr` (KeyID bits included) with flags. */
function ent(cpu: Cpu, pa: number, addr: number, flags: number): void {
  const hi = Math.floor(addr / 2 ** 32);
  put(cpu, pa, (addr - hi * 2 ** 32 + flags) >>> 0, hi);
}
const reg = (r: Rig, off: number): number => r.cpu.load32(VTD_REG_BASE + off);
const setReg = (r: Rig, off: number, v: number): void => r.cpu.store32(VTD_REG_BASE + off, v >>> 0);

function invalidateAll(r: Rig): void {
  setReg(r, 0x28, 0); setReg(r, 0x2c, 0x8000_0000 | (1 << 29));      // CCMD: ICC, global
  setReg(r, 0x108, 0); setReg(r, 0x10c, 0x8000_0000 | (1 << 28));    // IOTLB: IVT, global
}

/** Root -> context (did 5, 48-bit) -> L4..L1 -> DATA, read+write everywhere; translation on. */
function rig(patch: Patch = {}): Rig {
  const m = machine(patch);
  const r = { m, cpu: m.cpus[0] };
  const k = (pa: number): number => pa;
  for (const pa of [ROOT, CTX, L4, L3, L2, L1]) r.cpu.fill(k(pa), 0, 4096); // tables start zeroed
  ent(r.cpu, k(ROOT) + 0 * 16, k(CTX), 1);
  ent(r.cpu, k(CTX) + SID * 16, k(L4), 1);           // P, TT = 0
  put(r.cpu, k(CTX) + SID * 16 + 8, 2 | (5 << 8));   // AW = 48-bit, DID 5
  ent(r.cpu, k(L4), k(L3), R | W);
  ent(r.cpu, k(L3) + 8, k(L2), R | W);
  ent(r.cpu, k(L2) + 8, k(L1), R | W);
  ent(r.cpu, k(L1) + 8, DATA, R | W);
  r.cpu.write(DATA, new TextEncoder().encode('device data here'));
  setReg(r, 0x20, k(ROOT) % 2 ** 32); setReg(r, 0x24, Math.floor(k(ROOT) / 2 ** 32));
  setReg(r, 0x18, 0x4000_0000);               // SRTP
  invalidateAll(r);
  setReg(r, 0x18, 0x8000_0000);               // TE
  return r;
}

function dmaRead(r: Rig, iova: number, len = 16): Uint8Array | null {
  const b = new Uint8Array(len);
  return r.m.dma.read(SID, iova, b) === 'ok' ? b : null;
}
const text = (b: Uint8Array | null): string | null => (b ? new TextDecoder().decode(b) : null);
function reasons(r: Rig): number[] { return r.m.vtd.pendingFaults().map((f) => f.reason); }
function clearFaults(r: Rig): void { for (let i = 0; i < 4; i++) setReg(r, 0x200 + 16 * i + 12, 0x8000_0000); }

function faultCase(t: Test, name: string, edit: (r: Rig) => void, reason: number, write = false, iova = IOVA): void {
  const r = rig();
  edit(r);
  invalidateAll(r);
  const st = write ? r.m.dma.write(SID, iova, new Uint8Array(4)) : r.m.dma.read(SID, iova, new Uint8Array(4));
  t.equal(st, 'fault', `${name}: blocked`);
  t.same(reasons(r), [reason], `${name}: reason 0x${reason.toString(16)}`);
}

t.test('registers and a working translation', (t) => {
  const r = rig();
  t.equal(reg(r, 0x00), 0x10, 'VER 1.0');
  t.equal((reg(r, 0x08) >>> 8) & 0x1f, 4, 'SAGAW: 48-bit only');
  t.equal(((reg(r, 0x08) >>> 16) & 0x3f) + 1, 48, 'MGAW 48');
  t.equal(reg(r, 0x10) & 0x41, 0x41, 'ECAP: C and PT');
  t.equal(reg(r, 0x1c) >>> 0, 0xc000_0000, 'GSTS: TES | RTPS');
  t.equal(text(dmaRead(r, IOVA)), 'device data here');
  t.equal(text(dmaRead(r, IOVA + 7, 9)), 'data here', 'offsets within the page');
  t.equal(r.m.dma.write(SID, IOVA + 0x10, new TextEncoder().encode('!')), 'ok');
  t.equal(text(dmaRead(r, IOVA + 0x10, 1)), '!');
  t.end();
});

t.test('context entry fields', (t) => {
  faultCase(t, 'root P clear', (r) => put(r.cpu, ROOT, 0), 0x1);
  faultCase(t, 'context P clear', (r) => put(r.cpu, CTX + SID * 16, 0), 0x2);
  faultCase(t, 'TT = 3 (reserved)', (r) => ent(r.cpu, CTX + SID * 16, L4, 1 | (3 << 2)), 0x3);
  faultCase(t, 'TT = 1 (device-TLB, no ATS here)', (r) => ent(r.cpu, CTX + SID * 16, L4, 1 | (1 << 2)), 0x3);
  faultCase(t, 'AW = 39-bit (not in SAGAW)', (r) => put(r.cpu, CTX + SID * 16 + 8, 1 | (5 << 8)), 0x3);
  faultCase(t, 'context reserved bits 11:4', (r) => ent(r.cpu, CTX + SID * 16, L4, 1 | 0x10), 0xb);
  faultCase(t, 'SLPTPTR beyond the host address width', (r) => ent(r.cpu, CTX + SID * 16, L4 + 2 ** 46, 1), 0xb);
  faultCase(t, 'root reserved bits', (r) => ent(r.cpu, ROOT, CTX, 1 | 0x2), 0xa);
  faultCase(t, 'root table in a hole', (r) => {
    setReg(r, 0x20, 0xc000_0000); setReg(r, 0x24, 0); setReg(r, 0x18, 0xc000_0000);
  }, 0x8);
  faultCase(t, 'context table in a hole', (r) => ent(r.cpu, ROOT, 0xc000_0000, 1), 0x9);
  // FPD: the request is blocked but not recorded.
  const f = rig();
  ent(f.cpu, CTX + SID * 16, L4, 1 | 2);
  put(f.cpu, L1 + 8, 0);
  invalidateAll(f);
  t.equal(dmaRead(f, IOVA), null, 'FPD: still blocked');
  t.same(reasons(f), [], 'FPD: no fault recorded');
  // TT = 2 pass-through: the address goes through untranslated, no walk.
  const p = rig();
  ent(p.cpu, CTX + SID * 16, 0, 1 | (2 << 2));
  invalidateAll(p);
  t.equal(text(dmaRead(p, DATA)), 'device data here', 'pass-through: DMA address = physical address');
  t.equal(p.m.vtd.stats.walks, 0, 'no second-level walk');
  // Another requester has no context entry.
  const b = new Uint8Array(4);
  t.equal(p.m.dma.read(0x20, 0, b), 'fault', '00:04.0 has no context');
  t.same(reasons(p), [0x2]);
  t.end();
});

t.test('second-level entry fields', (t) => {
  faultCase(t, 'leaf read-only, write', (r) => ent(r.cpu, L1 + 8, DATA, R), 0x5, true);
  faultCase(t, 'leaf write-only, read', (r) => ent(r.cpu, L1 + 8, DATA, W), 0x6);
  faultCase(t, 'leaf not present, read', (r) => put(r.cpu, L1 + 8, 0), 0x6);
  faultCase(t, 'leaf not present, write', (r) => put(r.cpu, L1 + 8, 0), 0x5, true);
  faultCase(t, 'non-leaf read-only: W is ANDed over levels', (r) => ent(r.cpu, L3 + 8, L2, R), 0x5, true);
  faultCase(t, 'reserved bit 3 (EMT without MTS)', (r) => ent(r.cpu, L2 + 8, L1, R | W | 0x8), 0xc);
  faultCase(t, 'address bits above MAXPHYADDR', (r) => ent(r.cpu, L1 + 8, DATA + 2 ** 47, R | W), 0xc);
  faultCase(t, 'PS in the PML4E', (r) => ent(r.cpu, L4, L3, R | W | PS), 0xc);
  faultCase(t, '2 MiB page not 2 MiB aligned', (r) => ent(r.cpu, L2 + 8, DATA + 0x1000, R | W | PS), 0xc);
  faultCase(t, 'beyond MGAW', () => undefined, 0x4, false, 2 ** 48);
  faultCase(t, 'next table in a hole', (r) => ent(r.cpu, L2 + 8, 0xc000_0000, R | W), 0x7);
  // Large pages: 2 MiB at L2 and 1 GiB at L3.
  const r = rig();
  ent(r.cpu, L2 + 8, 0x200000, R | W | PS);             // IOVA 0x40200000.. -> 0x200000..
  invalidateAll(r);
  t.equal(text(dmaRead(r, 0x40300000)), 'device data here', '2 MiB page: IOVA 0x40300000 -> 0x200000 + 0x100000 = DATA');
  ent(r.cpu, L3 + 8, 0, R | W | PS);                      // IOVA 0x40000000.. -> 0..
  invalidateAll(r);
  t.equal(text(dmaRead(r, 0x40000000 + DATA)), 'device data here', '1 GiB page');
  t.end();
});

t.test('KeyIDs in RTADDR, root, context and every table pointer; the leaf\'s KeyID selects the data\'s key', (t) => {
  const k1 = new Uint8Array(16).fill(0x11), t1 = new Uint8Array(16).fill(0x12);
  const k2 = new Uint8Array(16).fill(0x21), t2 = new Uint8Array(16).fill(0x22);
  const setup = (): Rig => {
    const m = machine({ bios: { bypass: true } });
    programAll(m, 1, CMD_DIRECT, ALG_128, k1, t1);
    programAll(m, 2, CMD_DIRECT, ALG_128, k2, t2);
    return { m, cpu: m.cpus[0] };
  };
  // Tables written through KeyID 1, every pointer carrying KeyID 1; the data under KeyID 2.
  const build = (r: Rig, ptrKey: (level: string) => number, leafKey: number): void => {
    const a = (pa: number, lvl: string): number => alias(r.m, pa, ptrKey(lvl));
    const w = (pa: number): number => alias(r.m, pa, 1);
    for (const pa of [ROOT, CTX, L4, L3, L2, L1]) r.cpu.fill(w(pa), 0, 4096);
    ent(r.cpu, w(ROOT), a(CTX, 'ctp'), 1);
    ent(r.cpu, w(CTX) + SID * 16, a(L4, 'slptptr'), 1);
    put(r.cpu, w(CTX) + SID * 16 + 8, 2 | (5 << 8));
    ent(r.cpu, w(L4), a(L3, 'l4'), R | W);
    ent(r.cpu, w(L3) + 8, a(L2, 'l3'), R | W);
    ent(r.cpu, w(L2) + 8, a(L1, 'l2'), R | W);
    ent(r.cpu, w(L1) + 8, alias(r.m, DATA, leafKey), R | W);
    const line = new Uint8Array(64);
    line.set(new TextEncoder().encode('tenant 2 secret.'));
    r.cpu.write(alias(r.m, DATA, 2), line);
    const rt = a(ROOT, 'rtaddr');
    setReg(r, 0x20, rt % 2 ** 32); setReg(r, 0x24, Math.floor(rt / 2 ** 32));
    setReg(r, 0x18, 0x4000_0000);
    invalidateAll(r);
    setReg(r, 0x18, 0x8000_0000);
  };
  const good = setup();
  build(good, () => 1, 2);
  t.equal(text(dmaRead(good, IOVA)), 'tenant 2 secret.', 'every level fetched through KeyID 1, data through KeyID 2');
  for (const lvl of ['rtaddr', 'ctp', 'slptptr', 'l4', 'l3', 'l2']) {
    const r = setup();
    build(r, (l) => (l === lvl ? 0 : 1), 2);
    for (const c of r.m.cpus) c.wbinvd(); // the KeyID-0 alias now reads the KeyID-1 ciphertext
    t.equal(dmaRead(r, IOVA), null, `${lvl} without its KeyID: the unit reads ciphertext, the request fails`);
    t.equal(reasons(r).length, 1, `${lvl}: one fault recorded`);
  }
  // The leaf without KeyID 2 (and KeyID 0 in bypass): the device gets exactly the ciphertext.
  const r = setup();
  build(r, () => 1, 0);
  for (const c of r.m.cpus) c.wbinvd();
  const line = new Uint8Array(64);
  line.set(new TextEncoder().encode('tenant 2 secret.'));
  const ct = xtsEncrypt(k2, t2, addrTweak(DATA), line);
  t.same(dmaRead(r, IOVA, 64), ct, 'a KeyID-0 leaf reads AES-XTS(key 2) of the data');
  t.end();
});

t.test('the IOTLB and the context cache stay stale until invalidated', (t) => {
  const r = rig();
  t.equal(text(dmaRead(r, IOVA)), 'device data here', 'walk fills the IOTLB');
  const walks = r.m.vtd.stats.walks;
  put(r.cpu, L1 + 8, 0); // unmap without invalidation
  t.equal(text(dmaRead(r, IOVA)), 'device data here', 'a stale IOTLB entry still reaches the page');
  t.equal(r.m.vtd.stats.walks, walks, 'no walk: the IOTLB answered');
  // Domain-selective invalidation of another domain does nothing.
  setReg(r, 0x108, 0); setReg(r, 0x10c, 0x8000_0000 | (2 << 28) | 6);
  t.ok(dmaRead(r, IOVA), 'DID 6 invalidated: DID 5 still stale');
  // Page-selective for a different page does nothing; for this page it drops the entry.
  setReg(r, 0x100, IOVA + 0x1000); setReg(r, 0x104, 0); setReg(r, 0x108, 0); setReg(r, 0x10c, 0x8000_0000 | (3 << 28) | 5);
  t.ok(dmaRead(r, IOVA), 'PSI of the next page: still stale');
  t.equal((reg(r, 0x10c) >>> 25) & 3, 3, 'IAIG reports page-selective');
  t.equal(reg(r, 0x10c) >>> 31, 0, 'IVT cleared when done');
  setReg(r, 0x100, IOVA); setReg(r, 0x104, 0); setReg(r, 0x108, 0); setReg(r, 0x10c, 0x8000_0000 | (3 << 28) | 5);
  t.equal(dmaRead(r, IOVA), null, 'PSI of the page: the unmap takes effect');
  t.same(reasons(r), [0x6]);
  // A 2 MiB entry is dropped by a PSI of any 4 KiB page in it.
  const big = rig();
  ent(big.cpu, L2 + 8, 0x200000, R | W | PS);
  invalidateAll(big);
  t.ok(dmaRead(big, IOVA), 'large page cached');
  put(big.cpu, L2 + 8, 0);
  setReg(big, 0x100, 0x40200000 + 0x5000); setReg(big, 0x104, 0); setReg(big, 0x108, 0); setReg(big, 0x10c, 0x8000_0000 | (3 << 28) | 5);
  t.equal(dmaRead(big, IOVA), null, 'PSI inside the large page invalidates all of it');
  // Context cache: clearing P takes effect only after a context invalidation.
  const c = rig();
  t.ok(dmaRead(c, IOVA));
  put(c.cpu, CTX + SID * 16, 0);
  setReg(c, 0x108, 0); setReg(c, 0x10c, 0x8000_0000 | (1 << 28)); // IOTLB global only
  t.ok(dmaRead(c, IOVA), 'stale context entry still used');
  setReg(c, 0x28, SID << 16); setReg(c, 0x2c, 0x8000_0000 | (3 << 29)); // device-selective
  t.equal((reg(c, 0x2c) >>> 27) & 3, 3, 'CAIG reports device-selective');
  t.equal(dmaRead(c, IOVA), null, 'after CCMD the context is gone');
  t.same(reasons(c), [0x2]);
  t.end();
});

t.test('fault recording registers, overflow, and the notification', (t) => {
  const r = rig();
  put(r.cpu, L1 + 8, 0);
  invalidateAll(r);
  let events = 0;
  r.m.vtd.onFaultEvent = () => { events++; };
  t.equal(r.m.dma.write(SID, IOVA + 0x123, new Uint8Array(1)), 'fault');
  t.equal(reg(r, 0x34) & 3, 2, 'FSTS.PPF');
  t.equal((reg(r, 0x38) >>> 30) & 3, 3, 'FECTL: masked (IM) with the interrupt pending (IP)');
  t.equal(events, 0, 'masked: no message');
  t.equal(reg(r, 0x200), IOVA, 'FRCD: page address');
  t.equal(reg(r, 0x208) & 0xffff, SID, 'FRCD: source id');
  const hi = reg(r, 0x20c);
  t.equal(hi >>> 31, 1, 'F');
  t.equal((hi >>> 30) & 1, 0, 'T = 0: a write');
  t.equal(hi & 0xff, 5, 'FR = 5');
  setReg(r, 0x38, 0);
  t.equal(events, 1, 'unmasking delivers the pending message');
  t.equal((reg(r, 0x38) >>> 30) & 1, 0, 'IP cleared');
  clearFaults(r);
  t.equal(reg(r, 0x34) & 2, 0, 'PPF clear after F is cleared');
  for (let i = 0; i < 5; i++) dmaRead(r, IOVA);
  t.equal(reasons(r).length, 4, 'four records');
  t.equal(reg(r, 0x34) & 1, 1, 'the fifth overflowed: PFO');
  t.equal(events, 2, 'one message for the first pending fault');
  clearFaults(r);
  setReg(r, 0x34, 1);
  t.equal(reg(r, 0x34) & 3, 0, 'PFO is write-1-to-clear');
  t.end();
});
