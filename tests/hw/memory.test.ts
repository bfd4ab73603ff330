/**
 * The mission's hardware claims, observed on the bare machine: DRAM holds only
 * ciphertext, caches hold plaintext, KeyIDs alias, and the physical attacker sees what
 * the spec says it sees.
 */
import t from 'tap';
import { xtsEncrypt, addrTweak } from '../../arch/x86/hw/crypto/xts.js';
import { Fault, X86_TRAP_MC } from '../../arch/x86/hw/isa.js';
import {
  ALG_128, ALG_256, CMD_DIRECT, CMD_NO_ENCRYPT, CMD_RANDOM, alias, bytes, lineDecrypt, lineEncrypt, machine, platformKey, programAll,
} from './helpers.js';

const CANARY = bytes('CANARY-0123456789-canary-ABCDEFGH');
const PAGE = 0x400000; // inside node 0's DRAM
const NODE0 = 32 * 1024 * 1024;

function writeAndFlush(m: ReturnType<typeof machine>, pa: number, data: Uint8Array): void {
  const cpu = m.cpus[0];
  cpu.write(pa, data);
  for (let off = 0; off < data.length; off += 64) cpu.clflush(pa + off);
}

t.test('TME: a canary written through KeyID 0 never appears in DRAM', (t) => {
  const m = machine();
  writeAndFlush(m, PAGE, CANARY);
  t.notOk(m.probe.scan(0, NODE0, CANARY), 'not in node 0 DRAM');
  const back = new Uint8Array(CANARY.length);
  m.cpus[0].read(PAGE, back);
  t.same(back, CANARY, 'the CPU reads plaintext');
  t.end();
});

t.test('caches hold plaintext: before write-back DRAM has nothing, the cache has the data', (t) => {
  const m = machine();
  m.cpus[0].write(PAGE, CANARY);
  t.ok(m.caches.dirtyLines() > 0, 'dirty in the cache');
  t.same(m.probe.read(PAGE, CANARY.length), new Uint8Array(CANARY.length), 'DRAM still untouched');
  t.end();
});

t.test('canary appears in DRAM under no-encrypt, bypass and the exclusion range', (t) => {
  const m = machine();
  t.same(programAll(m, 3, CMD_NO_ENCRYPT, ALG_128), [0, 0]);
  writeAndFlush(m, alias(m, PAGE, 3), CANARY);
  t.ok(m.probe.scan(PAGE, 4096, CANARY), 'no-encrypt KeyID: plaintext in DRAM');

  const b = machine({ bios: { bypass: true } });
  writeAndFlush(b, PAGE, CANARY);
  t.ok(b.probe.scan(PAGE, 4096, CANARY), 'bypass: KeyID 0 is plaintext');

  const e = machine({ bios: { exclude: { base: 0x800000, size: 0x100000 } } });
  writeAndFlush(e, 0x800000, CANARY);
  t.ok(e.probe.scan(0x800000, 4096, CANARY), 'exclusion range: plaintext for KeyID 0');
  writeAndFlush(e, PAGE, CANARY);
  t.notOk(e.probe.scan(PAGE, 4096, CANARY), 'outside the range: encrypted');
  t.end();
});

t.test('the exclusion range covers KeyID 0 only', (t) => {
  const e = machine({ bios: { exclude: { base: 0x800000, size: 0x100000 } } });
  t.same(programAll(e, 5, CMD_RANDOM, ALG_128), [0, 0]);
  writeAndFlush(e, alias(e, 0x801000, 5), CANARY);
  t.notOk(e.probe.scan(0x801000, 4096, CANARY), 'KeyID 5 inside the range is still encrypted');
  t.end();
});

t.test('TME off: memory is plaintext', (t) => {
  const m = machine({ bios: { tme: false } });
  writeAndFlush(m, PAGE, CANARY);
  t.ok(m.probe.scan(PAGE, 4096, CANARY));
  t.end();
});

t.test('a wrong-KeyID read returns garbage, not an error', (t) => {
  const m = machine();
  const k1: [Uint8Array, Uint8Array] = [bytes('data key for K#1'), bytes('tweak key, K#1!!')];
  t.same(programAll(m, 1, CMD_DIRECT, ALG_128, k1[0], k1[1]), [0, 0]);
  const line = new Uint8Array(64);
  line.set(CANARY);
  writeAndFlush(m, alias(m, PAGE, 1), line);
  const viaK0 = new Uint8Array(64);
  m.cpus[0].read(PAGE, viaK0);
  t.same(viaK0, lineDecrypt(platformKey(m, 0), PAGE, lineEncrypt(k1, PAGE, line)),
    'KeyID 0 alias: the KeyID-1 ciphertext decrypted under the TME key');
  const viaK1 = new Uint8Array(CANARY.length);
  m.cpus[0].read(alias(m, PAGE, 1), viaK1);
  t.same(viaK1, CANARY, 'KeyID 1 alias reads the data');
  t.end();
});

t.test('a software key: DRAM holds exactly AES-XTS(key, tweak = line address)', (t) => {
  for (const [alg, n] of [[ALG_128, 16], [ALG_256, 32]] as const) {
    const m = machine();
    const k1 = new Uint8Array(n).map((_, i) => i + 1);
    const k2 = new Uint8Array(n).map((_, i) => 0xa0 + i);
    t.same(programAll(m, 2, CMD_DIRECT, alg, k1, k2), [0, 0]);
    const line = new Uint8Array(64).map((_, i) => i * 3);
    writeAndFlush(m, alias(m, PAGE + 0x40, 2), line);
    const expect = xtsEncrypt(k1, k2, addrTweak(PAGE + 0x40), line);
    t.same(m.probe.read(PAGE + 0x40, 64), expect, `AES-XTS-${n * 8}`);
  }
  t.end();
});

t.test('stale-alias hazard: a dirty line of the old KeyID written back late corrupts the new contents', (t) => {
  const run = (flush: boolean): Uint8Array => {
    const m = machine();
    programAll(m, 1, CMD_RANDOM, ALG_128);
    programAll(m, 2, CMD_RANDOM, ALG_128);
    const cpu = m.cpus[0];
    cpu.write(alias(m, PAGE, 1), new Uint8Array(4096).fill(0x11)); // owner 1, dirty in cache
    if (flush) for (let o = 0; o < 4096; o += 64) cpu.clflush(alias(m, PAGE, 1) + o);
    const fresh = new Uint8Array(4096).fill(0x22);
    cpu.write(alias(m, PAGE, 2), fresh); // reused under KeyID 2
    for (let o = 0; o < 4096; o += 64) cpu.clflush(alias(m, PAGE, 2) + o); // new data reaches DRAM
    cpu.wbinvd(); // a later eviction of whatever is still cached
    const back = new Uint8Array(4096);
    cpu.read(alias(m, PAGE, 2), back);
    return back;
  };
  const fresh = Buffer.alloc(4096, 0x22);
  t.notOk(fresh.equals(run(false)), 'without the flush the page is corrupted');
  t.ok(fresh.equals(run(true)), 'with the flush it is intact');
  t.end();
});

t.test('stale-alias hazard under plain cache pressure (LRU): the stale alias, used last, is written back last', (t) => {
  const m = machine({ cacheBytes: 16 * 1024, cacheWays: 4 });
  const k = (base: number): Uint8Array => new Uint8Array(16).map((_, i) => base + i);
  const key1: [Uint8Array, Uint8Array] = [k(0x10), k(0x30)], key2: [Uint8Array, Uint8Array] = [k(0x50), k(0x70)];
  programAll(m, 1, CMD_DIRECT, ALG_128, ...key1);
  programAll(m, 2, CMD_DIRECT, ALG_128, ...key2);
  const cpu = m.cpus[0];
  const old = new Uint8Array(4096).fill(0x11);
  cpu.write(alias(m, PAGE, 1), old); // dirty under KeyID 1
  cpu.write(alias(m, PAGE, 2), new Uint8Array(4096).fill(0x22)); // the page reused under KeyID 2, no flush
  cpu.read(alias(m, PAGE, 1), new Uint8Array(4096)); // a late read through the old mapping: KeyID 1 is now the most recent
  const junk = new Uint8Array(4096);
  for (let i = 0; i < 64; i++) cpu.read(0x1000000 + i * 4096, junk); // evict everything, least recent first
  const held = [0, 4032].flatMap((o) => [...m.caches.peek(alias(m, PAGE, 1) + o), ...m.caches.peek(alias(m, PAGE, 2) + o)]);
  t.same(held, [], 'no line of either alias is cached any more');
  const back = new Uint8Array(4096);
  cpu.read(alias(m, PAGE, 2), back);
  // KeyID 2's lines went first, KeyID 1's last: DRAM holds the old data under key 1, and
  // KeyID 2 reads it through key 2.
  t.same(back, lineDecrypt(key2, PAGE, lineEncrypt(key1, PAGE, old)), 'every line is the stale KeyID-1 data, decrypted under key 2');
  t.end();
});

t.test('cold boot: DRAM survives, the new platform key makes it unreadable', (t) => {
  const m = machine();
  writeAndFlush(m, PAGE, CANARY);
  const before = m.probe.read(PAGE, 64)!;
  m.powerCycle();
  t.same(m.probe.read(PAGE, 64), before, 'the DIMM kept its bytes');
  const back = new Uint8Array(CANARY.length);
  m.cpus[0].read(PAGE, back);
  t.same(back, lineDecrypt(platformKey(m, 0, 1), PAGE, before).subarray(0, CANARY.length),
    'but they decrypt to garbage under the new key');
  t.end();
});

t.test('cold boot loses dirty cache lines', (t) => {
  const m = machine({ bios: { tme: false } });
  m.cpus[0].write(PAGE, CANARY);
  m.powerCycle();
  t.notOk(m.probe.scan(PAGE, 4096, CANARY), 'never written back');
  t.end();
});

t.test('S3 with the key saved for standby: memory decrypts after resume', (t) => {
  const m = machine({ bios: { saveKey: true } });
  writeAndFlush(m, PAGE, CANARY);
  m.suspendResume();
  const back = new Uint8Array(CANARY.length);
  m.cpus[0].read(PAGE, back);
  t.same(back, CANARY);
  t.equal(m.packages[0].tmeActivate & 7n, 7n, 'ACTIVATE reads x..x111b after a restore');
  t.end();
});

t.test('a hole raises a machine check, not a host crash', (t) => {
  const m = machine();
  const hole = 3 * 2 ** 30 + 4096; // PCI hole
  const err = t.throws(() => m.cpus[0].load32(hole));
  t.ok(err instanceof Fault && err.vector === X86_TRAP_MC, '#MC');
  t.end();
});

t.test('addresses near 2^46 round-trip (KeyID 63 aliases)', (t) => {
  const m = machine();
  t.same(programAll(m, 63, CMD_RANDOM, ALG_256), [0, 0]);
  const pa = alias(m, 0x1fff000, 63);
  t.ok(pa > 2 ** 45.9, 'near the top of the 46-bit space');
  m.cpus[0].write(pa + 0xfc0, CANARY);
  writeAndFlush(m, pa + 0xfc0, CANARY);
  const back = new Uint8Array(CANARY.length);
  m.cpus[0].read(pa + 0xfc0, back);
  t.same(back, CANARY);
  t.notOk(m.probe.scan(0x1fff000, 4096, CANARY));
  t.end();
});

t.test('per-package engines: a key programmed on one package only', (t) => {
  const m = machine();
  // node 1 DRAM belongs to package 1's engine
  const node1 = m.map.find((r) => r.node === 1 && r.kind === 'dram')!.base;
  const pkg0cpu = m.cpus[0];
  const k = new Uint8Array(16).fill(7);
  const s = new Uint8Array(192);
  new DataView(s.buffer).setUint32(2, CMD_DIRECT | (ALG_128 << 8), true);
  new DataView(s.buffer).setUint16(0, 4, true);
  s.set(k, 64); s.set(k, 128);
  pkg0cpu.write(0x200000, s);
  t.equal(pkg0cpu.pconfig(0, 0x200000).rax, 0);
  t.equal(m.packages[0].engine.keyMode(4), 1, 'package 0 has the key');
  t.equal(m.packages[1].engine.keyMode(4), 0, 'package 1 still uses the TME key');
  const line = new Uint8Array(64).fill(9);
  writeAndFlush(m, alias(m, node1, 4), line);
  t.same(m.probe.read(node1, 64), lineEncrypt(platformKey(m, 1), node1, line),
    'node 1 memory is under package 1\'s TME key: its engine was never programmed');
  t.end();
});

t.test('counters count lines per KeyID', (t) => {
  const m = machine();
  programAll(m, 6, CMD_RANDOM, ALG_128);
  const e = m.packages[0].engine;
  const before = e.encLines[6];
  writeAndFlush(m, alias(m, PAGE, 6), new Uint8Array(128));
  t.equal(e.encLines[6] - before, 2);
  t.end();
});

t.test('DEVICE_BUSY while another CPU of the package holds the key-table lock', (t) => {
  const m = machine();
  const e = m.packages[0].engine;
  e.lockHolder = 1; // CPU 1 (same package) is mid-PCONFIG
  const k = new Uint8Array(16).fill(3);
  t.same(programAll(m, 8, CMD_DIRECT, ALG_128, k, k), [5, 0], 'package 0 busy, package 1 programmed');
  t.equal(e.keyMode(8), 0, 'nothing changed on the busy package');
  e.lockHolder = -1; // CPU 1 finished
  t.same(programAll(m, 8, CMD_DIRECT, ALG_128, k, k), [0, 0], 'the retry succeeds');
  t.equal(e.keyMode(8), 1);
  t.end();
});
