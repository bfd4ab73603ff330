/**
 * The memory controllers' batched transfers (write-combining queue, stream prefetcher,
 * batched line cipher; memsys.ts) are invisible: a random workload run on two machines
 * with the same seed, one batched and one strictly per line, leaves the DIMMs equal byte
 * for byte at every point something could look (the physical probe, a fill by another
 * package, a flush, a PCONFIG, a cold boot), and every load, counter and the virtual
 * clock agree too.
 */
import t from 'tap';
import type { Machine } from '../../arch/x86/hw/machine.js';
import type { PackageCache } from '../../arch/x86/hw/pkgcache.js';
import { Rng } from '../../arch/x86/hw/rng.js';
import { makeConfig } from '../../arch/x86/hw/config.js';
import { Fault, X86_TRAP_GP, X86_TRAP_UD } from '../../arch/x86/hw/isa.js';
import { ALG_128, ALG_256, CMD_DIRECT, CMD_NO_ENCRYPT, alias, homeNode, leadCpus, lineDecrypt, lineEncrypt, machine, platformKey, programAll } from './helpers.js';

const KiB = 1024;
/** Windows of each DRAM/NVRAM range exercised: its first and its last WINDOW bytes. */
const WINDOW = 96 * KiB;

function rig(batched: boolean, cacheBytes = 16 * KiB): Machine {
  // A small cache (16 KiB, 4-way) so the workload evicts constantly; MOVDIR64B present.
  const m = machine({ memPerNode: 16 * 1024 * KiB, nvramSize: 4 * 1024 * KiB, cacheBytes, cacheWays: 4,
    cpu: { ...makeConfig().cpu, movdir64b: true } });
  m.mem.batched = batched;
  return m;
}

function windows(m: Machine): number[] {
  const out: number[] = [];
  for (const r of m.map) out.push(r.base, r.base + r.size - WINDOW);
  return out;
}

/** Every exercised byte of raw memory, as the physical probe reads it. */
function dimms(m: Machine): Uint8Array[] {
  return windows(m).map((w) => m.probe.read(w, WINDOW)!);
}

function counters(m: Machine): string {
  const c = m.counters;
  const eng = m.packages.map((p) => [...p.engine.encLines, ...p.engine.decLines].join(','));
  return JSON.stringify([c.cacheHits, c.cacheMisses, c.cacheWritebacks, c.cacheFlushes, m.clock.cycles, eng]);
}

function programKeys(m: Machine, rng: Rng): void {
  const k = rng.fill(new Uint8Array(64));
  programAll(m, 1, CMD_DIRECT, ALG_128, k.subarray(0, 16), k.subarray(16, 32));
  programAll(m, 2, CMD_DIRECT, ALG_256, k.subarray(0, 32), k.subarray(32, 64));
  programAll(m, 3, CMD_NO_ENCRYPT, ALG_128);
}

/** Package `pkg`'s cache arrays (LineCaches keeps them protected). */
function packageCache(m: Machine, pkg: number): PackageCache {
  return (m.caches as unknown as { caches: PackageCache[] }).caches[pkg];
}

t.test('a power-of-two cache has copyRun\'s stream loop in WebAssembly, over its own arrays',
  { skip: typeof WebAssembly !== 'object' ? 'no WebAssembly here (node --jitless)' : false }, (t) => {
  const m = rig(true);
  const c = packageCache(m, 0);
  t.type(c.streamLoop, 'function');
  t.equal(c.tags.buffer, c.present.buffer, 'tags and presence counts share one memory');
  t.equal(c.tags.buffer, c.lru.order.buffer, 'and the LRU ring');
  t.equal(c.tags.buffer, c.data.buffer, 'and the line data');
  t.type(c.moveLines, 'function');
  t.not(c.streamLoop, packageCache(m, 1).streamLoop, 'an instance per package');
  t.equal(packageCache(rig(true, 48 * KiB), 0).streamLoop, null, '192 sets: none (copyRun takes line())');
  t.end();
});

// 64 sets: a page's lines fall in different sets and copyRun defers its moves, through its
// loop in WebAssembly (cachewasm.ts) or, with that taken away, its JavaScript alone; 192
// sets (not a power of two) and 16 (fewer than a page's lines): it takes line() line by line.
for (const [cacheBytes, ops, jsOnly] of [[16 * KiB, 1500, false], [16 * KiB, 600, true], [48 * KiB, 400, false],
  [4 * KiB, 400, false]] as const) {
  t.test(`batched and per-line transfers leave the same DRAM, loads, counters and clock (${cacheBytes / KiB} KiB cache${jsOnly ? ', no WebAssembly loop' : ''})`, (t) => {
    const a = rig(true, cacheBytes);
    if (jsOnly) for (const p of a.packages.keys()) (packageCache(a, p) as { streamLoop: unknown }).streamLoop = null;
    const b = rig(false, cacheBytes);
    const wins = windows(a);
    const rngA = new Rng(0xba7c4);
    const rngB = new Rng(0xba7c4);
    programKeys(a, rngA);
    programKeys(b, rngB);
    const rng = new Rng(11);
    const sizes = [1, 8, 64, 100, 4096, 8192, 3 * 4096 + 192];
    let mismatches = 0;
    const checkpoint = (what: string): void => {
      const da = dimms(a), db = dimms(b);
      const same = da.every((x, i) => Buffer.compare(x, db[i]) === 0);
      if (!same) { mismatches++; t.fail(`DRAM differs after ${what}`); }
      if (counters(a) !== counters(b)) { mismatches++; t.fail(`counters differ after ${what}`); }
    };
    for (let op = 0; op < ops; op++) {
      const cpu = rng.below(a.cpus.length);
      const keyid = rng.below(5); // 0 TME, 1/2 keys, 3 no-encrypt, 4 unprogrammed (TME key)
      const len = sizes[rng.below(sizes.length)];
      const win = wins[rng.below(wins.length)];
      const off = rng.below((WINDOW - len) / 64) * 64 + (len < 64 ? rng.below(64 - len + 1) : 0);
      const pa = alias(a, win + off, keyid);
      const kind = rng.below(100);
      if (kind < 35) {
        const data = rng.fill(new Uint8Array(len));
        a.cpus[cpu].write(pa, data);
        b.cpus[cpu].write(pa, data);
      } else if (kind < 75) {
        const x = new Uint8Array(len), y = new Uint8Array(len);
        a.cpus[cpu].read(pa, x);
        b.cpus[cpu].read(pa, y);
        if (Buffer.compare(x, y) !== 0) { mismatches++; t.fail(`load ${op} differs`); }
      } else if (kind < 80) {
        const lines = 1 + rng.below(Math.min(64, (WINDOW - off) / 64)); // MOVDIR64B: full lines around the cache
        const data = rng.fill(new Uint8Array(64 * lines));
        const at = pa - (pa % 64);
        for (let i = 0; i < lines; i++) { a.cpus[cpu].movdir64b(at + 64 * i, data, 64 * i); b.cpus[cpu].movdir64b(at + 64 * i, data, 64 * i); }
      } else if (kind < 85) {
        const lines = 1 + rng.below(64);
        for (let i = 0; i < lines; i++) { a.cpus[cpu].clflush(pa + 64 * i); b.cpus[cpu].clflush(pa + 64 * i); }
      } else if (kind < 88) {
        a.cpus[cpu].wbinvd();
        b.cpus[cpu].wbinvd();
      } else if (kind < 91) {
        programKeys(a, rngA); // PCONFIG: queued lines must land under the old keys
        programKeys(b, rngB);
      } else if (kind < 97) {
        checkpoint(`op ${op}`);
      } else if (kind < 99) {
        const junk = rng.fill(new Uint8Array(1 + rng.below(200))); // tamper under queued/prefetched lines
        a.probe.write(win + off, junk);
        b.probe.write(win + off, junk);
      } else {
        a.powerCycle(); // cold boot: what was queued is in DRAM, caches are lost
        b.powerCycle();
        programKeys(a, rngA);
        programKeys(b, rngB);
      }
    }
    checkpoint('the workload');
    for (const m of [a, b]) for (const c of m.packages.map((p) => m.cpus.find((x) => x.pkg === p)!)) c.wbinvd();
    checkpoint('WBINVD everywhere');
    t.equal(mismatches, 0, 'no difference anywhere');
    t.end();
  });
}

t.test('the queue drains before the probe looks, and a prefetched line is dropped when DRAM changes', (t) => {
  const m = rig(true);
  const base = m.map[0].base + 64 * KiB;
  const page = new Uint8Array(4096).fill(0x5a);
  m.cpus[0].write(base, page);
  for (let i = 0; i < 4096; i += 64) m.cpus[0].clflush(base + i); // 64 write-backs: queued, then drained
  const ct = m.probe.read(base, 4096)!;
  const key = platformKey(m, homeNode(m, base));
  t.same(ct, lineEncrypt(key, base, page), 'the DIMM holds the write-backs: the page under the platform key');
  // Stream the page back (the prefetcher decrypts the rest of the page at the second miss)...
  const back = new Uint8Array(128);
  m.cpus[0].read(base, back);
  t.same(back, new Uint8Array(128).fill(0x5a), 'streamed reads see the data');
  // ...then the attacker flips a byte of a prefetched, not yet consumed line.
  const flip = m.probe.read(base + 1024, 1)!;
  flip[0] ^= 1;
  m.probe.write(base + 1024, flip);
  const line = new Uint8Array(64);
  m.cpus[0].read(base + 1024, line);
  const tampered = ct.slice(1024, 1088);
  tampered[0] ^= 1;
  t.same(line, lineDecrypt(key, base + 1024, tampered), 'the fill decrypts the tampered DIMM bytes, not the stale prefetch');
  t.end();
});

t.test('a stream that jumps to another frame fetches that page whole, and a store under it is still seen', (t) => {
  const m = rig(true);
  const a = m.map[0].base + 64 * KiB, b = m.map[0].base + 160 * KiB; // not adjacent
  const cpu = m.cpus[0];
  cpu.write(a, new Uint8Array(4096).fill(0x11));
  cpu.write(b, new Uint8Array(4096).fill(0x22));
  for (const p of [a, b]) for (let i = 0; i < 4096; i += 64) cpu.clflush(p + i);
  const line = new Uint8Array(64);
  cpu.read(a + 4032, line); // a page's last line, then another page's first: the jump
  cpu.read(b, line);
  const before = m.counters.cacheMisses;
  cpu.read(b + 64, line);
  t.same(line, new Uint8Array(64).fill(0x22), 'the next line of the new page reads back');
  // A store that bypasses the cache into a line of that page (queued at the controller),
  // then a fill of it: the prefetched copy must not answer.
  const fresh = new Uint8Array(64).fill(0x33);
  cpu.movdir64b(b + 1024, fresh);
  cpu.read(b + 1024, line);
  t.same(line, fresh, 'the fill sees the direct store, not the stale prefetch');
  t.equal(m.counters.cacheMisses - before, 2, 'both reads were fills');
  t.end();
});

t.test('MOVDIR64B: #UD without the feature, #GP unaligned, and the line bypasses the cache', (t) => {
  const plain = machine();
  const src = new Uint8Array(64).fill(7);
  const vector = (fn: () => void): number => { try { fn(); return -1; } catch (e) { return e instanceof Fault ? e.vector : -2; } };
  t.equal(vector(() => plain.cpus[0].movdir64b(0x400000, src)), X86_TRAP_UD, '#UD: CPUID.7.0:ECX[28] is clear');
  const m = rig(true);
  const at = m.map[0].base + 128 * KiB;
  t.equal(vector(() => m.cpus[0].movdir64b(at + 8, src)), X86_TRAP_GP, '#GP(0): unaligned destination');
  m.cpus[1].write(at, new Uint8Array(64).fill(1)); // a dirty copy in package 0's cache
  m.cpus[2].movdir64b(at, src); // from package 1
  t.same(m.caches.peek(at), [], 'no cache holds the line afterwards');
  const back = new Uint8Array(64);
  m.cpus[0].read(at, back);
  t.same(back, src, 'memory has the direct store, not the older dirty copy');
  t.end();
});

t.test('lines cached before TME activation are written back as the per-line model writes them', (t) => {
  // Firmware leaves TME off and unlocked; dirty lines sit in both caches while a CPU of
  // each package activates TME with 6 KeyID bits (an engine change: the caches decode
  // their lines again before the next write-back), then WBINVD writes them back under the
  // new platform keys, on the fused path as on the per-line one.
  const rigOff = (batched: boolean): Machine => {
    const m = machine({ memPerNode: 16 * 1024 * KiB, nvramSize: 0, cacheBytes: 16 * KiB, cacheWays: 4, bios: { lock: false } });
    m.mem.batched = batched;
    return m;
  };
  const a = rigOff(true), b = rigOff(false);
  const rng = new Rng(77);
  const lines = a.map.map((r) => r.base + 4096);
  for (const m of [a, b]) t.notOk(m.packages[0].engine.enabled, 'TME is off before the write');
  const written: Uint8Array[] = [];
  for (let i = 0; i < lines.length; i++) {
    const data = rng.fill(new Uint8Array(4 * 64)); // 4 sets: nothing is evicted before activation
    written.push(data);
    a.cpus[i % a.cpus.length].write(lines[i], data);
    b.cpus[i % b.cpus.length].write(lines[i], data);
  }
  const activate = 2n | (6n << 32n); // enable, policy 0 (AES-XTS-128), 6 KeyID bits
  for (const m of [a, b]) for (const c of leadCpus(m)) c.msrWrite(0x982, activate);
  t.equal(a.packages[1].engine.keyIdBits, 6, 'activated with 6 KeyID bits');
  for (const m of [a, b]) for (const c of leadCpus(m)) c.wbinvd();
  const raw = (m: Machine): Uint8Array[] => lines.map((at) => m.probe.read(at, 4 * 64)!);
  const ra = raw(a), rb = raw(b);
  t.ok(ra.every((x, i) => Buffer.compare(x, rb[i]) === 0), 'DRAM is the same on both machines');
  // Unlocked firmware drew no keys: the two activations above draw them in package order.
  t.same(ra.map((x) => [...x]), lines.map((at, i) => [...lineEncrypt(platformKey(a, homeNode(a, at)), at, written[i])]),
    'lines dirty from before activation are written back under their node\'s platform key');
  t.equal(counters(a), counters(b), 'counters and clock agree');
  t.end();
});

