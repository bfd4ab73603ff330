/**
 * The virtio-blk device on the bare machine (paging off, no IOMMU translation), driven
 * through its BAR and a hand-built split virtqueue: good requests, and every kind of
 * bad descriptor or request giving a clean status (IOERR, UNSUPP) or DEVICE_NEEDS_RESET,
 * never a changed sector.
 */
import t from 'tap';
import type { Cpu } from '../../arch/x86/hw/cpu.js';
import type { Machine } from '../../arch/x86/hw/machine.js';
import { ECAM_BASE } from '../../arch/x86/hw/pci/host.js';
import { machine, type Patch } from './helpers.js';

const BAR = 0xfe00_0000;
const DESC = 0x110000, AVAIL = 0x111000, USED = 0x112000;
const HDR = 0x120000, STATUS = 0x121000, BUF = 0x130000;
const NEXT = 1, WRITE = 2;

interface Rig { m: Machine; cpu: Cpu; idx: number }

function rig(patch: Patch = {}): Rig {
  const m = machine(patch);
  const cpu = m.cpus[0];
  for (const pa of [DESC, AVAIL, USED, HDR, STATUS]) cpu.fill(pa, 0, 4096);
  cpu.fill(BUF, 0, 0x4000);
  cpu.store32(ECAM_BASE + (3 << 15) + 4, 0x6); // memory + bus master
  const w = (off: number, v: number): void => cpu.store32(BAR + off, v);
  w(0x070, 0); w(0x070, 3); w(0x024, 1); w(0x020, 1); w(0x070, 11);
  w(0x038, 8);
  w(0x080, DESC); w(0x084, 0); w(0x090, AVAIL); w(0x094, 0); w(0x0a0, USED); w(0x0a4, 0);
  w(0x044, 1); w(0x070, 15);
  return { m, cpu, idx: 0 };
}

function desc(r: Rig, i: number, addr: number, len: number, flags: number, next = 0): void {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint32(0, addr % 2 ** 32, true); v.setUint32(4, Math.floor(addr / 2 ** 32), true);
  v.setUint32(8, len, true); v.setUint16(12, flags, true); v.setUint16(14, next, true);
  r.cpu.write(DESC + 16 * i, b);
}
function header(r: Rig, type: number, sector: number): void {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint32(0, type, true); v.setUint32(8, sector, true);
  r.cpu.write(HDR, b);
  r.cpu.store8(STATUS, 0xff);
}
/** Make chain `head` available and ring the doorbell; the used ring's (idx, len). */
function kick(r: Rig, head = 0): { used: number; len: number; status: number; devStatus: number } {
  const slot = AVAIL + 4 + 2 * (r.idx % 8);
  r.cpu.store8(slot, head & 0xff);
  r.cpu.store8(slot + 1, head >>> 8);
  r.idx++;
  r.cpu.store32(AVAIL, r.idx << 16); // flags 0, idx
  r.cpu.store32(BAR + 0x050, 0);
  const used = r.cpu.load32(USED) >>> 16;
  const last = (used - 1 + 8) % 8;
  return { used, len: r.cpu.load32(USED + 4 + 8 * last + 4), status: r.cpu.load8(STATUS), devStatus: r.cpu.load32(BAR + 0x70) };
}
const sector0 = (m: Machine): Uint8Array => { const b = new Uint8Array(512); m.disks[0].medium.read(0, b, 0, 512); return b; };

t.test('registers, capacity, good requests', (t) => {
  const r = rig();
  t.equal(r.cpu.load32(BAR), 0x74726976, 'magic');
  t.equal(r.cpu.load32(BAR + 0x100), 32768, 'capacity in sectors (16 MiB)');
  t.equal(r.cpu.load32(BAR + 0x0f8), 64, 'DmaAddressBits');
  r.cpu.write(BUF, new Uint8Array(512).fill(0x5a));
  header(r, 1, 0);
  desc(r, 0, HDR, 16, NEXT, 1); desc(r, 1, BUF, 512, NEXT, 2); desc(r, 2, STATUS, 1, WRITE);
  t.same(kick(r), { used: 1, len: 1, status: 0, devStatus: 15 }, 'OUT: OK');
  t.same(sector0(r.m), new Uint8Array(512).fill(0x5a), 'the sector holds the data');
  header(r, 0, 0);
  desc(r, 1, BUF + 0x1000, 512, NEXT | WRITE, 2);
  t.same(kick(r), { used: 2, len: 513, status: 0, devStatus: 15 }, 'IN: OK, 513 bytes written');
  const back = new Uint8Array(512);
  r.cpu.read(BUF + 0x1000, back);
  t.same(back, new Uint8Array(512).fill(0x5a), 'read back');
  header(r, 8, 0);
  desc(r, 1, BUF + 0x2000, 20, NEXT | WRITE, 2);
  t.equal(kick(r).status, 0, 'GET_ID');
  const id = new Uint8Array(12);
  r.cpu.read(BUF + 0x2000, id);
  t.equal(new TextDecoder().decode(id), 'mktme-disk-3');
  t.end();
});

t.test('bad requests: a clean status, the disk unchanged', (t) => {
  const r = rig();
  const before = sector0(r.m);
  const out = (len: number, sector: number, flags = NEXT, addr = BUF): ReturnType<typeof kick> => {
    header(r, 1, sector);
    desc(r, 0, HDR, 16, NEXT, 1); desc(r, 1, addr, len, flags, 2); desc(r, 2, STATUS, 1, WRITE);
    return kick(r);
  };
  t.equal(out(512, 32768).status, 1, 'beyond the capacity: IOERR');
  t.equal(out(512, 32767).status, 0, 'the last sector is fine');
  t.equal(out(100, 0).status, 1, 'not whole sectors: IOERR');
  t.equal(out(512, 0, NEXT | WRITE).status, 1, 'OUT with a device-writable buffer: IOERR');
  t.equal(out(512, 0, NEXT, 0xc000_0000).status, 1, 'a buffer in the PCI hole (master abort): IOERR');
  t.same(sector0(r.m), before, 'sector 0 never written');
  header(r, 5, 0);
  desc(r, 0, HDR, 16, NEXT, 1); desc(r, 1, STATUS, 1, WRITE);
  t.equal(kick(r).status, 2, 'unknown type: UNSUPP');
  header(r, 0, 0);
  desc(r, 0, HDR, 8, NEXT, 1); desc(r, 1, BUF, 512, NEXT | WRITE, 2); desc(r, 2, STATUS, 1, WRITE);
  t.equal(kick(r).status, 1, 'short header: IOERR');
  t.end();
});

t.test('unparseable chains: DEVICE_NEEDS_RESET, nothing completed', (t) => {
  const cases: [string, (r: Rig) => void][] = [
    ['next index out of range', (r) => { desc(r, 0, HDR, 16, NEXT, 9); }],
    ['a loop', (r) => { desc(r, 0, HDR, 16, NEXT, 1); desc(r, 1, BUF, 512, NEXT | WRITE, 0); }],
    ['no device-writable status', (r) => { desc(r, 0, HDR, 16, NEXT, 1); desc(r, 1, STATUS, 1, 0); }],
    ['INDIRECT (not offered)', (r) => { desc(r, 0, HDR, 16, 4); }],
    ['descriptor table unreachable', (r) => { r.cpu.store32(BAR + 0x080, 0xc000_0000); }],
  ];
  for (const [name, build] of cases) {
    const r = rig();
    header(r, 0, 0);
    build(r);
    const k = kick(r);
    t.equal(k.used, 0, `${name}: no used entry`);
    t.equal(k.devStatus & 64, 64, `${name}: DEVICE_NEEDS_RESET`);
    t.equal(k.status, 0xff, `${name}: status byte untouched`);
  }
  t.end();
});

t.test('a 32-bit device: high address halves ignored, buffers above 4 GiB refused', (t) => {
  const r = rig({ disks: [{ file: null, size: 1 << 20, dmaBits: 32 }] });
  t.equal(r.cpu.load32(BAR + 0x0f8), 32);
  r.cpu.store32(BAR + 0x084, 1);
  t.equal(r.cpu.load32(BAR + 0x084), 0, 'QueueDescHigh stays 0');
  header(r, 0, 0);
  desc(r, 0, HDR, 16, NEXT, 1); desc(r, 1, 2 ** 32 + BUF, 512, NEXT | WRITE, 2); desc(r, 2, STATUS, 1, WRITE);
  t.equal(kick(r).status, 1, 'IOERR');
  t.end();
});

t.test('DMA needs bus mastering', (t) => {
  const r = rig();
  r.cpu.store32(ECAM_BASE + (3 << 15) + 4, 0x2);
  header(r, 0, 0);
  desc(r, 0, HDR, 16, NEXT, 1); desc(r, 1, STATUS, 1, WRITE);
  t.equal(kick(r).used, 0, 'the doorbell does nothing');
  t.equal(r.cpu.load32(ECAM_BASE + (5 << 15)), 0xffffffff, 'an empty slot reads all ones');
  t.end();
});
