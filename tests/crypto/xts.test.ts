/**
 * AES-XTS: the noble-based reference against the published IEEE 1619 / CAVS vectors and
 * node:crypto, and XtsCipher's line and page paths against the reference.
 */
import t from 'tap';
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { Rng } from '../../arch/x86/hw/rng.js';
import { addrTweak, mulAlpha, XtsCipher, xtsDecrypt, xtsEncrypt } from '../../arch/x86/hw/crypto/xts.js';
import { EXTRA, IEEE1619, PATTERN } from './ieee1619-vectors.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function nodeXts(encrypt: boolean, k1: Uint8Array, k2: Uint8Array, tweak: Uint8Array, data: Uint8Array): Uint8Array {
  const alg = k1.length === 16 ? 'aes-128-xts' : 'aes-256-xts';
  const key = Buffer.concat([k1, k2]);
  const c = encrypt ? createCipheriv(alg, key, tweak) : createDecipheriv(alg, key, tweak);
  return new Uint8Array(Buffer.concat([c.update(data), c.final()]));
}

/** Random key pair with key1 != key2 (OpenSSL refuses equal halves). */
function keys(rng: Rng, len: number): [Uint8Array, Uint8Array] {
  const k1 = rng.fill(new Uint8Array(len));
  const k2 = rng.fill(new Uint8Array(len));
  k2[0] = k1[0] ^ 0x5a;
  return [k1, k2];
}

/** The tweak for `addr`, built independently of the code under test (BigInt). */
function bigTweak(addr: number): Uint8Array {
  const b = new Uint8Array(16);
  let v = BigInt(addr);
  for (let i = 0; i < 16; i++, v >>= 8n) b[i] = Number(v & 0xffn);
  return b;
}

t.test('reference reproduces the IEEE 1619-2007 and CAVS vectors; node agrees', (t) => {
  for (const v of [...IEEE1619, ...EXTRA]) {
    const [k1, k2, tw, pt, ct] = [hex(v.key1), hex(v.key2), hex(v.tweak), hex(v.pt), hex(v.ct)];
    t.equal(toHex(xtsEncrypt(k1, k2, tw, pt)), v.ct, `${v.name}: encrypt`);
    t.equal(toHex(xtsDecrypt(k1, k2, tw, ct)), v.pt, `${v.name}: decrypt`);
    if (v.key1 !== v.key2) {
      t.equal(toHex(nodeXts(true, k1, k2, tw, pt)), v.ct, `${v.name}: node:crypto agrees`);
    }
  }
  t.equal(IEEE1619.length, 19, 'all of Vectors 1-19');
  t.ok(IEEE1619.some((v) => v.pt.length % 32 !== 0), 'ciphertext-stealing vectors included');
  t.end();
});

t.test('Vector 1 (key1 == key2 == 0), the spec §6 ciphertext', (t) => {
  const z = new Uint8Array(16);
  t.equal(toHex(xtsEncrypt(z, z, new Uint8Array(16), new Uint8Array(32))),
    '917cf69ebd68b2ec9b9fe9a3eadda692cd43d2f59598ed858c02c2652fbf922e');
  // Through the engine's class: a line at address 0 starts with the same two blocks.
  const c = new XtsCipher(z, z);
  const out = new Uint8Array(64);
  c.encryptLine(0, new Uint8Array(64), 0, out, 0);
  t.equal(toHex(out.subarray(0, 32)), '917cf69ebd68b2ec9b9fe9a3eadda692cd43d2f59598ed858c02c2652fbf922e');
  c.destroy();
  t.end();
});

t.test('XtsCipher lines reproduce the first line of Vectors 4 (128-bit) and 10 (256-bit)', (t) => {
  for (const [v, addr] of [[IEEE1619[3], 0], [IEEE1619[9], 0xff]] as const) {
    const c = new XtsCipher(hex(v.key1), hex(v.key2));
    const out = new Uint8Array(64);
    c.encryptLine(addr, hex(PATTERN), 0, out, 0);
    t.equal(toHex(out), v.ct.slice(0, 128), v.name);
    c.decryptLine(addr, out, 0, out, 0);
    t.equal(toHex(out), PATTERN.slice(0, 128), `${v.name} back`);
    c.destroy();
  }
  t.end();
});

t.test('differential: reference vs node:crypto on seeded random inputs', (t) => {
  const rng = new Rng(1619);
  for (let n = 0; n < 300; n++) {
    const [k1, k2] = keys(rng, n % 2 ? 32 : 16);
    const tw = rng.fill(new Uint8Array(16));
    const len = 16 + rng.below(n < 200 ? 120 : 2048);
    const pt = rng.fill(new Uint8Array(len));
    const ct = xtsEncrypt(k1, k2, tw, pt);
    const want = nodeXts(true, k1, k2, tw, pt);
    if (toHex(ct) !== toHex(want)) { t.fail(`encrypt case ${n}, len ${len}`); break; }
    if (toHex(xtsDecrypt(k1, k2, tw, ct)) !== toHex(pt)) { t.fail(`decrypt case ${n}, len ${len}`); break; }
    if (toHex(nodeXts(false, k1, k2, tw, ct)) !== toHex(pt)) { t.fail(`node decrypt case ${n}`); break; }
  }
  t.pass('300 cases, lengths 16..2063, AES-128 and AES-256');
  t.end();
});

t.test('encryptLine/decryptLine equal the reference at random addresses', (t) => {
  const rng = new Rng(7);
  const buf = new Uint8Array(64 * 8 + 3);
  for (let n = 0; n < 400; n++) {
    const [k1, k2] = keys(rng, n % 2 ? 32 : 16);
    const c = new XtsCipher(k1, k2);
    const addr = rng.below(1 << 21) * 2 ** 32 + rng.u32(); // any integer < 2^53
    const line = rng.fill(new Uint8Array(64));
    const want = xtsEncrypt(k1, k2, bigTweak(addr), line);
    const so = rng.below(buf.length - 63); // also unaligned offsets
    const dOff = rng.below(buf.length - 63);
    const dst = new Uint8Array(buf.length);
    buf.set(line, so);
    c.encryptLine(addr, buf, so, dst, dOff);
    if (toHex(dst.subarray(dOff, dOff + 64)) !== toHex(want)) { t.fail(`encrypt case ${n} addr ${addr}`); break; }
    c.decryptLine(addr, dst, dOff, buf, so);
    if (toHex(buf.subarray(so, so + 64)) !== toHex(line)) { t.fail(`decrypt case ${n}`); break; }
    c.destroy();
  }
  t.pass('400 lines');
  t.end();
});

t.test('lines in place; the page path equals 64 line calls and the reference', (t) => {
  const rng = new Rng(4096);
  for (const klen of [16, 32]) {
    const [k1, k2] = keys(rng, klen);
    const c = new XtsCipher(k1, k2);
    for (const [addr, off] of [[0, 0], [4096 * 12345, 4], [2 ** 46 - 4096, 1], [2 ** 52 - 4096, 3], [2 ** 53 - 4096, 0]]) {
      const mem = rng.fill(new Uint8Array(4096 + 8));
      const plain = mem.slice(off, off + 4096);
      const byLines = new Uint8Array(4096);
      for (let i = 0; i < 64; i++) c.encryptLine(addr + 64 * i, plain, 64 * i, byLines, 64 * i);
      const ref = new Uint8Array(4096);
      for (let i = 0; i < 64; i++) {
        ref.set(xtsEncrypt(k1, k2, bigTweak(addr + 64 * i), plain.subarray(64 * i, 64 * i + 64)), 64 * i);
      }
      t.equal(toHex(byLines), toHex(ref), `lines = reference, aes-${klen * 8}, page ${addr}`);
      const out = new Uint8Array(4096 + 8);
      c.encryptPage(addr, mem, off, out, 8 - off);
      t.equal(toHex(out.subarray(8 - off, 8 - off + 4096)), toHex(ref), `encryptPage, src offset ${off}`);
      c.encryptPage(addr, mem, off, mem, off); // in place
      t.equal(toHex(mem.subarray(off, off + 4096)), toHex(ref), 'encryptPage in place');
      c.decryptPage(addr, mem, off, mem, off);
      t.equal(toHex(mem.subarray(off, off + 4096)), toHex(plain), 'decryptPage in place');
      const line = plain.slice(128, 192);
      c.encryptLine(addr + 128, line, 0, line, 0);
      t.equal(toHex(line), toHex(ref.subarray(128, 192)), 'encryptLine in place');
      c.decryptLine(addr + 128, line, 0, line, 0);
      t.equal(toHex(line), toHex(plain.subarray(128, 192)), 'decryptLine in place');
      const sub = new Uint8Array(out.buffer, 8 - off); // a view with its own byteOffset
      c.decryptPage(addr, sub, 0, sub, 0);
      t.equal(toHex(sub.subarray(0, 4096)), toHex(plain), 'decryptPage on a subarray view');
    }
    c.destroy();
  }
  t.end();
});

t.test('high-address tweaks are the little-endian address', (t) => {
  t.equal(toHex(addrTweak(2 ** 46 - 64)), 'c0ffffffff3f0000' + '00'.repeat(8));
  t.equal(toHex(addrTweak(2 ** 52 - 64)), 'c0ffffffffff0f00' + '00'.repeat(8));
  t.equal(toHex(addrTweak(2 ** 53 - 1)), 'ffffffffffff1f00' + '00'.repeat(8));
  t.equal(toHex(addrTweak(0x123456789a)), '9a78563412' + '00'.repeat(11));
  // Against node:crypto with a tweak built by hand, so the encoding itself is checked.
  const rng = new Rng(46);
  const [k1, k2] = keys(rng, 16);
  const c = new XtsCipher(k1, k2);
  for (const addr of [2 ** 46 - 64, 2 ** 52 - 64, 2 ** 32, 2 ** 32 - 64, 2 ** 53 - 64]) {
    const line = rng.fill(new Uint8Array(64));
    const out = new Uint8Array(64);
    c.encryptLine(addr, line, 0, out, 0);
    t.equal(toHex(out), toHex(nodeXts(true, k1, k2, bigTweak(addr), line)), `line at ${addr.toString(16)}`);
  }
  c.destroy();
  t.end();
});

t.test('keys: copied, never modified, equal halves accepted, bad lengths refused', (t) => {
  const k1 = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
  const k2 = Buffer.from('f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff', 'hex');
  const c = new XtsCipher(k1, k2);
  const line = new Uint8Array(64).fill(7);
  const a = new Uint8Array(64);
  c.encryptLine(64, line, 0, a, 0);
  t.equal(k1.toString('hex'), '000102030405060708090a0b0c0d0e0f', 'caller key1 untouched');
  xtsEncrypt(k1, k2, new Uint8Array(16), line);
  t.equal(k2.toString('hex'), 'f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff', 'reference leaves caller keys alone');
  k1.fill(0);
  k2.fill(0);
  const b = new Uint8Array(64);
  c.encryptLine(64, line, 0, b, 0);
  t.equal(toHex(b), toHex(a), 'zeroing the caller buffers does not affect the cipher');
  c.destroy();
  const same = new Uint8Array(32).fill(0x42);
  t.doesNotThrow(() => new XtsCipher(same, same).destroy(), 'key1 == key2 (AES-256) accepted');
  t.throws(() => new XtsCipher(new Uint8Array(16), new Uint8Array(32)), RangeError);
  t.throws(() => new XtsCipher(new Uint8Array(24), new Uint8Array(24)), RangeError);
  t.throws(() => xtsEncrypt(new Uint8Array(16), new Uint8Array(16), new Uint8Array(16), new Uint8Array(15)), RangeError);
  t.throws(() => xtsEncrypt(new Uint8Array(16), new Uint8Array(16), new Uint8Array(8), new Uint8Array(16)), RangeError);
  t.end();
});

t.test('bad addresses and spans are refused', (t) => {
  const c = new XtsCipher(new Uint8Array(16).fill(1), new Uint8Array(16).fill(2));
  const b = new Uint8Array(8192);
  for (const addr of [-64, 1.5, 2 ** 53, NaN]) {
    t.throws(() => c.encryptLine(addr, b, 0, b, 0), RangeError, `line addr ${addr}`);
  }
  t.throws(() => c.encryptPage(64, b, 0, b, 0), RangeError, 'unaligned page address');
  t.throws(() => c.encryptLine(0, b, 8192 - 63, b, 0), RangeError, 'src overrun');
  t.throws(() => c.decryptPage(0, b, 0, b, 4097), RangeError, 'dst overrun');
  c.destroy();
  t.end();
});

t.test('destroy() zeroes the schedules and makes every later call throw', (t) => {
  const c = new XtsCipher(new Uint8Array(32).fill(0xaa), new Uint8Array(32).fill(0xbb));
  const b = new Uint8Array(4096);
  c.encryptPage(0, b, 0, b, 0);
  const held = c as unknown as Record<string, Int32Array>;
  const schedules = [held.xk1, held.xk1d, held.xk2];
  t.ok(schedules.every((s) => s.some((w) => w !== 0)), 'schedules populated before');
  c.destroy();
  t.ok(c.destroyed);
  t.ok(schedules.every((s) => s.every((w) => w === 0)), 'schedules zeroed');
  t.throws(() => c.encryptLine(0, b, 0, b, 0), /destroy/);
  t.throws(() => c.decryptLine(0, b, 0, b, 0), /destroy/);
  t.throws(() => c.encryptPage(0, b, 0, b, 0), /destroy/);
  t.throws(() => c.decryptPage(0, b, 0, b, 0), /destroy/);
  t.doesNotThrow(() => c.destroy(), 'destroy twice is harmless');
  t.end();
});

t.test('mulAlpha: the IEEE 1619 §5.2 shift with the 0x87 fold', (t) => {
  const m = (w: number[]): number[] => { const a = Uint32Array.from(w); mulAlpha(a); return [...a]; };
  t.same(m([1, 0, 0, 0]), [2, 0, 0, 0]);
  t.same(m([0x80000000, 0, 0, 0]), [0, 1, 0, 0]);
  t.same(m([0, 0x80000000, 0x80000000, 0]), [0, 0, 1, 1]);
  t.same(m([0, 0, 0, 0x80000000]), [0x87, 0, 0, 0]);
  t.same(m([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]), [0xffffff79, 0xffffffff, 0xffffffff, 0xffffffff]);
  t.end();
});
