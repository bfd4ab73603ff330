/**
 * XtsCipher, the engine's class: lines and pages against the noble-based reference and
 * node:crypto, in place and at odd offsets, at high addresses, key handling, argument
 * checks and destroy(). Every test runs on the WebAssembly routine and on the JS path.
 */
import t from 'tap';
import { Rng } from '../../arch/x86/hw/rng.js';
import { XtsCipher, xtsEncrypt, type XtsOptions } from '../../arch/x86/hw/crypto/xts.js';
import { bigTweak, hex, keys, nodeXts, toHex } from './helpers.js';
import { IEEE1619, PATTERN } from './ieee1619-vectors.js';

const MODES: Array<[string, XtsOptions]> = [['wasm', {}], ['js', { wasm: false }]];

t.test('the default cipher runs on the WebAssembly routine', (t) => {
  const c = new XtsCipher(new Uint8Array(16), new Uint8Array(16).fill(1));
  t.ok(c.usesWasm, 'so the fast path is the one these tests cover');
  t.notOk(new XtsCipher(new Uint8Array(16), new Uint8Array(16), { wasm: false }).usesWasm);
  c.destroy();
  t.end();
});

/** One run of `n` lines from `addr` through encryptRuns/decryptRuns. */
function run1(c: XtsCipher, encrypting: boolean, addr: number, n: number, src: Uint8Array, so: number,
  dst: Uint8Array, d: number): void {
  const starts = new Float64Array([addr]), counts = new Int32Array([n]);
  if (encrypting) c.encryptRuns(starts, counts, 0, 1, src, so, dst, d);
  else c.decryptRuns(starts, counts, 0, 1, src, so, dst, d);
}

for (const [mode, opts] of MODES) {
  t.test(`${mode}: lines reproduce Vector 1 (key1 == key2) and the first lines of Vectors 4 and 10`, (t) => {
    const z = new Uint8Array(16);
    const c0 = new XtsCipher(z, z, opts);
    const out = new Uint8Array(64);
    c0.encryptLine(0, new Uint8Array(64), 0, out, 0);
    t.equal(toHex(out.subarray(0, 32)), '917cf69ebd68b2ec9b9fe9a3eadda692cd43d2f59598ed858c02c2652fbf922e', 'Vector 1');
    c0.destroy();
    for (const [v, addr] of [[IEEE1619[3], 0], [IEEE1619[9], 0xff]] as const) {
      const c = new XtsCipher(hex(v.key1), hex(v.key2), opts);
      c.encryptLine(addr, hex(PATTERN), 0, out, 0);
      t.equal(toHex(out), v.ct.slice(0, 128), v.name);
      c.decryptLine(addr, out, 0, out, 0);
      t.equal(toHex(out), PATTERN.slice(0, 128), `${v.name} back`);
      c.destroy();
    }
    t.end();
  });

  t.test(`${mode}: lines equal the reference at random addresses and offsets`, (t) => {
    const rng = new Rng(7);
    const buf = new Uint8Array(64 * 8 + 3);
    let bad = '';
    for (let n = 0; n < 300 && !bad; n++) {
      const [k1, k2] = keys(rng, n % 2 ? 32 : 16);
      const c = new XtsCipher(k1, k2, opts);
      const addr = rng.below(1 << 21) * 2 ** 32 + rng.u32(); // any integer < 2^53
      const line = rng.fill(new Uint8Array(64));
      const want = toHex(xtsEncrypt(k1, k2, bigTweak(addr), line));
      const so = n % 3 === 0 ? rng.below(8) * 64 : rng.below(buf.length - 63); // aligned and not
      const dOff = rng.below(buf.length - 63);
      const dst = new Uint8Array(buf.length);
      buf.set(line, so);
      c.encryptLine(addr, buf, so, dst, dOff);
      if (toHex(dst.subarray(dOff, dOff + 64)) !== want) bad = `encrypt case ${n} addr ${addr}`;
      c.decryptLine(addr, dst, dOff, buf, so);
      if (!bad && toHex(buf.subarray(so, so + 64)) !== toHex(line)) bad = `decrypt case ${n}`;
      c.destroy();
    }
    t.equal(bad, '', '300 lines, AES-128 and AES-256');
    t.end();
  });

  t.test(`${mode}: many arrays and views (the kernel's view cache), aligned and not`, (t) => {
    const rng = new Rng(99);
    const [k1, k2] = keys(rng, 16);
    const c = new XtsCipher(k1, k2, opts);
    const backing = new ArrayBuffer(4096 + 16);
    const arrays = [new Uint8Array(256), new Uint8Array(backing, 4), new Uint8Array(backing, 1), new Uint8Array(512),
      new Uint8Array(backing, 8, 1024)];
    let bad = '';
    for (let n = 0; n < 200 && !bad; n++) {
      const a = arrays[rng.below(arrays.length)];
      const b = arrays[rng.below(arrays.length)];
      const ao = rng.below(Math.floor(a.length / 64)) * 64;
      const bo = rng.below(Math.floor(b.length / 64)) * 64;
      const [x, y] = [a.byteOffset + ao, b.byteOffset + bo];
      if (a.buffer === b.buffer && x !== y && Math.abs(x - y) < 64) continue; // only exact in-place overlap is supported
      const line = rng.fill(new Uint8Array(64));
      a.set(line, ao);
      const addr = rng.u32() * 64;
      c.encryptLine(addr, a, ao, b, bo);
      if (toHex(b.subarray(bo, bo + 64)) !== toHex(xtsEncrypt(k1, k2, bigTweak(addr), line))) bad = `case ${n}`;
      c.decryptLine(addr, b, bo, b, bo);
      if (!bad && toHex(b.subarray(bo, bo + 64)) !== toHex(line)) bad = `decrypt case ${n}`;
    }
    t.equal(bad, '', '200 lines across five arrays over two buffers, byte offsets 0, 1, 4, 8');
    c.destroy();
    t.end();
  });

  t.test(`${mode}: a page's run equals 64 line calls and the reference, in place and at odd offsets`, (t) => {
    const rng = new Rng(4096);
    for (const klen of [16, 32]) {
      const [k1, k2] = keys(rng, klen);
      const c = new XtsCipher(k1, k2, opts);
      for (const [addr, off] of [[0, 0], [4096 * 12345, 4], [2 ** 46 - 4096, 1], [2 ** 52 - 4096, 3], [2 ** 53 - 4096, 0]]) {
        const mem = rng.fill(new Uint8Array(4096 + 8));
        const plain = mem.slice(off, off + 4096);
        const byLines = new Uint8Array(4096);
        for (let i = 0; i < 64; i++) c.encryptLine(addr + 64 * i, plain, 64 * i, byLines, 64 * i);
        const ref = new Uint8Array(4096);
        for (let i = 0; i < 64; i++) {
          ref.set(xtsEncrypt(k1, k2, bigTweak(addr + 64 * i), plain.subarray(64 * i, 64 * i + 64)), 64 * i);
        }
        const tag = `aes-${klen * 8}, page ${addr}, offset ${off}`;
        t.equal(toHex(byLines), toHex(ref), `lines = reference, ${tag}`);
        const out = new Uint8Array(4096 + 8);
        run1(c, true, addr, 64, mem, off, out, 8 - off);
        t.equal(toHex(out.subarray(8 - off, 8 - off + 4096)), toHex(ref), `a page's run, ${tag}`);
        run1(c, true, addr, 64, mem, off, mem, off);
        t.equal(toHex(mem.subarray(off, off + 4096)), toHex(ref), `a page's run in place, ${tag}`);
        run1(c, false, addr, 64, mem, off, mem, off);
        t.equal(toHex(mem.subarray(off, off + 4096)), toHex(plain), `a page's run decrypted in place, ${tag}`);
        const line = plain.slice(128, 192);
        c.encryptLine(addr + 128, line, 0, line, 0);
        t.equal(toHex(line), toHex(ref.subarray(128, 192)), `encryptLine in place, ${tag}`);
        c.decryptLine(addr + 128, line, 0, line, 0);
        t.equal(toHex(line), toHex(plain.subarray(128, 192)), `decryptLine in place, ${tag}`);
        const sub = new Uint8Array(out.buffer, 8 - off); // a view with its own byteOffset
        run1(c, false, addr, 64, sub, 0, sub, 0);
        t.equal(toHex(sub.subarray(0, 4096)), toHex(plain), `a page's run decrypted on a subarray view, ${tag}`);
      }
      c.destroy();
    }
    t.end();
  });

  t.test(`${mode}: runs of one line each, at random addresses, equal one line call per line, across batch boundaries`, (t) => {
    const rng = new Rng(0x11e5);
    const [k1, k2] = keys(rng, 16);
    const c = new XtsCipher(k1, k2, opts);
    // Under 6 lines run line by line; 64 is a page, 1024 the routine's batch. Runs just
    // under, at and over each.
    for (const n of [1, 5, 6, 7, 63, 64, 65, 1023, 1024, 1025, 2100]) {
      const addrs = new Float64Array(n + 3);
      for (let i = 0; i < addrs.length; i++) addrs[i] = (rng.u32() * 2 ** 14 + rng.below(2 ** 14)) * 64; // up to 2^52
      const plain = rng.fill(new Uint8Array(64 * n + 5));
      const byLine = new Uint8Array(64 * n);
      for (let i = 0; i < n; i++) c.encryptLine(addrs[3 + i], plain, 5 + 64 * i, byLine, 64 * i);
      const run = new Uint8Array(64 * n + 1);
      const ones = new Int32Array(n + 3).fill(1);
      c.encryptRuns(addrs, ones, 3, n, plain, 5, run, 1);
      t.equal(toHex(run.subarray(1)), toHex(byLine), `encryptRuns, ${n} lines`);
      c.decryptRuns(addrs, ones, 3, n, run, 1, run, 1);
      t.equal(toHex(run.subarray(1)), toHex(plain.subarray(5)), `decryptRuns in place, ${n} lines`);
    }
    // A bad address anywhere in a run (within one batch, or in a later batch) throws
    // before any result is written.
    for (const [n, at] of [[5, 4], [64, 63], [1024, 1000], [2100, 2050]]) {
      for (const bad of [-64, 0.5, NaN, 2 ** 53]) {
        const addrs = new Float64Array(n).map((_, i) => 64 * i);
        addrs[at] = bad;
        const out = new Uint8Array(64 * n).fill(0xa5);
        t.throws(() => c.encryptRuns(addrs, new Int32Array(n).fill(1), 0, n, new Uint8Array(64 * n), 0, out, 0), RangeError);
        if (out.some((b) => b !== 0xa5)) t.fail(`${n} lines, address ${bad} at ${at}: output written`);
      }
    }
    t.pass('no output written for a bad address');
    c.destroy();
    t.end();
  });

  t.test(`${mode}: runs at consecutive addresses (encryptRuns/decryptRuns) equal one line call per line`, (t) => {
    const rng = new Rng(0x52554e);
    const [k1, k2] = keys(rng, 16);
    const c = new XtsCipher(k1, k2, opts);
    // Run lengths around the line-by-line cut (6) and the batch (1024): runs split across
    // batches, empty runs, and a run whose addresses carry into bit 32.
    for (const lens of [[1], [5], [3, 3], [64], [1000, 30, 0, 7], [1024], [1023, 2], [2100], [0, 0], [40, 0, 1500, 9]]) {
      const nr = lens.length, n = lens.reduce((p, q) => p + q, 0);
      const starts = new Float64Array(nr + 2), counts = new Int32Array(nr + 2);
      for (let r = 0; r < nr; r++) {
        starts[r + 2] = r === 0 ? 2 ** 32 - 64 * 3 : (rng.u32() * 2 ** 12 + rng.below(2 ** 12)) * 64;
        counts[r + 2] = lens[r];
      }
      const plain = rng.fill(new Uint8Array(64 * n + 3));
      const byLine = new Uint8Array(64 * n);
      for (let r = 0, o = 0; r < nr; r++) {
        for (let i = 0; i < lens[r]; i++, o += 64) c.encryptLine(starts[r + 2] + 64 * i, plain, 3 + o, byLine, o);
      }
      const run = new Uint8Array(64 * n + 2);
      c.encryptRuns(starts, counts, 2, nr, plain, 3, run, 2);
      t.equal(toHex(run.subarray(2)), toHex(byLine), `encryptRuns, runs of ${lens.join(', ')}`);
      c.decryptRuns(starts, counts, 2, nr, run, 2, run, 2);
      t.equal(toHex(run.subarray(2)), toHex(plain.subarray(3)), `decryptRuns in place, runs of ${lens.join(', ')}`);
    }
    // A bad run anywhere (its start, its end past 2^53, a negative count) writes nothing.
    for (const [start, count] of [[-64, 1], [0.5, 3], [2 ** 53 - 128, 3], [0, -1]]) {
      const starts = new Float64Array([0, 4096, start]), counts = new Int32Array([1000, 40, count]);
      const out = new Uint8Array(64 * 1100).fill(0x5a);
      t.throws(() => c.encryptRuns(starts, counts, 0, 3, new Uint8Array(64 * 1100), 0, out, 0), RangeError);
      if (out.some((b) => b !== 0x5a)) t.fail(`run (${start}, ${count}): output written`);
    }
    t.throws(() => c.encryptRuns(new Float64Array(2), new Int32Array(2), 1, 2, new Uint8Array(0), 0, new Uint8Array(0), 0), RangeError, 'runs past the arrays');
    // In the cipher's batch area: the same bytes, in place; more than a batch is refused.
    const area = c.batchArea();
    t.equal(area.length, 64 * 1024, 'a batch of 1024 lines');
    for (const n of [3, 64, 1024]) {
      const starts = new Float64Array([2 ** 40 + 64 * 9]), counts = new Int32Array([n]);
      const plain = rng.fill(new Uint8Array(64 * n));
      const want = new Uint8Array(64 * n);
      c.encryptRuns(starts, counts, 0, 1, plain, 0, want, 0);
      area.set(plain);
      c.encryptRuns(starts, counts, 0, 1, area, 0, area, 0);
      t.equal(toHex(area.subarray(0, 64 * n)), toHex(want), `${n} lines encrypted in the batch area`);
      c.decryptRuns(starts, counts, 0, 1, area, 0, area, 0);
      t.equal(toHex(area.subarray(0, 64 * n)), toHex(plain), `${n} lines decrypted in the batch area`);
    }
    t.throws(() => c.encryptRuns(new Float64Array([0]), new Int32Array([1025]), 0, 1, area, 0, area, 0), RangeError, 'no more than a batch in the batch area');
    c.destroy();
    t.throws(() => c.batchArea(), Error, 'no batch area after destroy()');
    t.end();
  });

  t.test(`${mode}: high addresses against node:crypto with a hand-built tweak`, (t) => {
    const rng = new Rng(46);
    const [k1, k2] = keys(rng, 16);
    const c = new XtsCipher(k1, k2, opts);
    for (const addr of [2 ** 46 - 64, 2 ** 52 - 64, 2 ** 32, 2 ** 32 - 64, 2 ** 31, 2 ** 53 - 64, 2 ** 53 - 1]) {
      const line = rng.fill(new Uint8Array(64));
      const out = new Uint8Array(64);
      c.encryptLine(addr, line, 0, out, 0);
      t.equal(toHex(out), toHex(nodeXts(true, k1, k2, bigTweak(addr), line)), `line at 0x${addr.toString(16)}`);
    }
    const page = rng.fill(new Uint8Array(4096));
    const out = new Uint8Array(4096);
    const base = 2 ** 32 - 4096; // the last page below 2^32: line addresses cross no carry
    run1(c, true, base, 64, page, 0, out, 0);
    for (let i = 0; i < 64; i += 21) {
      t.equal(toHex(out.subarray(64 * i, 64 * i + 64)),
        toHex(nodeXts(true, k1, k2, bigTweak(base + 64 * i), page.subarray(64 * i, 64 * i + 64))), `page line ${i}`);
    }
    c.destroy();
    t.end();
  });

  t.test(`${mode}: keys are copied and never modified; equal halves accepted; bad lengths refused`, (t) => {
    const k1 = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
    const k2 = Buffer.from('f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff', 'hex');
    const c = new XtsCipher(k1, k2, opts);
    const line = new Uint8Array(64).fill(7);
    const a = new Uint8Array(64);
    c.encryptLine(64, line, 0, a, 0);
    t.equal(k1.toString('hex') + k2.toString('hex'), '000102030405060708090a0b0c0d0e0ff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff',
      'caller keys untouched');
    k1.fill(0);
    k2.fill(0);
    const b = new Uint8Array(64);
    c.encryptLine(64, line, 0, b, 0);
    t.equal(toHex(b), toHex(a), 'zeroing the caller buffers does not affect the cipher');
    c.destroy();
    const same = new Uint8Array(32).fill(0x42);
    t.doesNotThrow(() => new XtsCipher(same, same, opts).destroy(), 'key1 == key2 (AES-256) accepted');
    t.throws(() => new XtsCipher(new Uint8Array(16), new Uint8Array(32), opts), RangeError);
    t.throws(() => new XtsCipher(new Uint8Array(24), new Uint8Array(24), opts), RangeError);
    t.end();
  });

  t.test(`${mode}: bad addresses and spans are refused`, (t) => {
    const c = new XtsCipher(new Uint8Array(16).fill(1), new Uint8Array(16).fill(2), opts);
    const b = new Uint8Array(8192);
    for (const addr of [-64, 1.5, 2 ** 53, NaN, Infinity]) {
      t.throws(() => c.encryptLine(addr, b, 0, b, 0), RangeError, `line addr ${addr}`);
      t.throws(() => c.decryptLine(addr, b, 0, b, 0), RangeError, `line addr ${addr}`);
    }
    t.throws(() => c.encryptLine(0, b, 8192 - 63, b, 0), RangeError, 'src overrun');
    t.throws(() => c.decryptLine(0, b, 0, b, -1), RangeError, 'negative dst offset');
    t.throws(() => c.encryptLine(0, b, 0.5, b, 0), RangeError, 'fractional offset');
    t.throws(() => run1(c, false, 0, 64, b, 0, b, 4097), RangeError, 'dst overrun');
    t.throws(() => c.encryptLine(0, [] as unknown as Uint8Array, 0, b, 0), RangeError, 'not a Uint8Array');
    c.destroy();
    t.end();
  });

  t.test(`${mode}: destroy() zeroes the schedules and makes every later call throw`, (t) => {
    const c = new XtsCipher(new Uint8Array(32).fill(0xaa), new Uint8Array(32).fill(0xbb), opts);
    const b = new Uint8Array(4096);
    run1(c, true, 0, 64, b, 0, b, 0);
    const held = c as unknown as Record<string, Uint8Array | Int32Array>;
    const schedules = [held.xk1, held.xk1d, held.xk2];
    t.ok(schedules.every((s) => s.some((w) => w !== 0)), 'schedules populated before');
    const mem = held.mem;
    c.destroy();
    t.ok(c.destroyed);
    t.ok(schedules.every((s) => s.every((w) => w === 0)), 'schedules zeroed');
    t.ok(mem.every((x) => x === 0), 'all kernel memory zeroed (if any)');
    t.throws(() => c.encryptLine(0, b, 0, b, 0), /destroy/);
    t.throws(() => c.decryptLine(0, b, 0, b, 0), /destroy/);
    t.throws(() => run1(c, true, 0, 64, b, 0, b, 0), /destroy/);
    t.throws(() => run1(c, false, 0, 64, b, 0, b, 0), /destroy/);
    t.doesNotThrow(() => c.destroy(), 'destroy twice is harmless');
    t.end();
  });
}
