/**
 * The line path's small-table AES (aes-block.ts) against noble's word-level AES, and the
 * persistent node:crypto ECB contexts (ecb.ts) against noble.
 */
import t from 'tap';
import { unsafe } from '@noble/ciphers/aes.js';
import { Rng } from '../../arch/x86/hw/rng.js';
import { decryptBlock, encryptBlock, scheduleView } from '../../arch/x86/hw/crypto/aes-block.js';
import { EcbContext, releasesOutput } from '../../arch/x86/hw/crypto/ecb.js';

t.test('encryptBlock/decryptBlock equal noble on random blocks, AES-128 and AES-256', (t) => {
  const rng = new Rng(197);
  const out = new Int32Array(4);
  let cases = 0;
  for (const len of [16, 32]) {
    for (let k = 0; k < 20; k++) {
      const key = rng.fill(new Uint8Array(len));
      const xk = unsafe.expandKeyLE(key);
      const xkd = unsafe.expandKeyDecLE(key);
      for (let n = 0; n < 50; n++, cases++) {
        const s = [rng.u32(), rng.u32(), rng.u32(), rng.u32()];
        const e = unsafe.encrypt(xk, s[0], s[1], s[2], s[3]);
        encryptBlock(scheduleView(xk), s[0], s[1], s[2], s[3], out);
        if (out[0] !== (e.s0 | 0) || out[1] !== (e.s1 | 0) || out[2] !== (e.s2 | 0) || out[3] !== (e.s3 | 0)) {
          t.fail(`encrypt differs, key ${k} len ${len}`);
          return t.end();
        }
        const d = unsafe.decrypt(xkd, s[0], s[1], s[2], s[3]);
        decryptBlock(scheduleView(xkd), s[0], s[1], s[2], s[3], out);
        if (out[0] !== (d.s0 | 0) || out[1] !== (d.s1 | 0) || out[2] !== (d.s2 | 0) || out[3] !== (d.s3 | 0)) {
          t.fail(`decrypt differs, key ${k} len ${len}`);
          return t.end();
        }
      }
    }
  }
  t.equal(cases, 2000);
  t.end();
});

t.test('FIPS-197 Appendix C.1 / C.3 known answers', (t) => {
  const words = (h: string): Uint32Array => new Uint32Array(new Uint8Array(Buffer.from(h, 'hex')).buffer);
  const pt = '00112233445566778899aabbccddeeff';
  const w = words(pt);
  const out = new Int32Array(4);
  for (const [key, ct] of [
    ['000102030405060708090a0b0c0d0e0f', '69c4e0d86a7b0430d8cdb78070b4c55a'],
    ['000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', '8ea2b7ca516745bfeafc49904b496089'],
  ]) {
    const k = new Uint8Array(Buffer.from(key, 'hex'));
    encryptBlock(scheduleView(unsafe.expandKeyLE(k)), w[0], w[1], w[2], w[3], out);
    t.equal(Buffer.from(out.buffer).toString('hex'), ct, `AES-${k.length * 8} encrypt`);
    const c = words(ct);
    decryptBlock(scheduleView(unsafe.expandKeyDecLE(k)), c[0], c[1], c[2], c[3], out);
    t.equal(Buffer.from(out.buffer).toString('hex'), pt, `AES-${k.length * 8} decrypt`);
  }
  t.end();
});

t.test('EcbContext: persistent contexts return every block, match noble, refuse after drop()', (t) => {
  const rng = new Rng(33);
  for (const len of [16, 32]) {
    const key = rng.fill(new Uint8Array(len));
    const enc = new EcbContext(key, false);
    const dec = new EcbContext(key, true);
    const xk = unsafe.expandKeyLE(key);
    for (const size of [16, 64, 1024, 4096]) {
      const data = rng.fill(new Uint8Array(size));
      const ct = enc.update(data);
      t.equal(ct.length, size, `encrypt returns ${size} bytes`);
      const w = new Uint32Array(data.buffer);
      const e = unsafe.encrypt(xk, w[0], w[1], w[2], w[3]);
      t.equal(ct.readInt32LE(0), e.s0 | 0, 'first block equals noble');
      const pt = dec.update(ct);
      t.equal(pt.length, size, `decrypt returns all ${size} bytes (nothing held back)`);
      t.equal(Buffer.from(pt).toString('hex'), Buffer.from(data).toString('hex'), 'round trip');
    }
    enc.drop();
    t.throws(() => enc.update(new Uint8Array(16)), /drop/);
  }
  t.end();
});

t.test('EcbContext.updateInto: the same blocks as update(), written in place, node\'s shared pool untouched', (t) => {
  // The test runner passes --harmony-rab-gsab-transfer, as make run and make bench do, so
  // the path that frees each answer at once is the one under test.
  t.ok(releasesOutput, 'ArrayBuffer.prototype.transfer is there: answers are freed at once');
  const rng = new Rng(34);
  const key = rng.fill(new Uint8Array(16));
  const a = new EcbContext(key, false), b = new EcbContext(key, false);
  const pooled = Buffer.from('a small Buffer from node\'s shared pool');
  for (const size of [16, 48, 4096, 65536]) {
    const data = rng.fill(new Uint8Array(size));
    const want = b.update(data);
    const dst = new Uint8Array(size + 32).fill(0xee);
    a.updateInto(data, dst, 16);
    t.equal(Buffer.compare(dst.subarray(16, 16 + size), want), 0, `${size} bytes: the blocks update() gives`);
    t.ok(dst.subarray(0, 16).every((x) => x === 0xee) && dst.subarray(16 + size).every((x) => x === 0xee),
      `${size} bytes: nothing written outside dst[16..${16 + size})`);
  }
  t.equal(pooled.toString(), 'a small Buffer from node\'s shared pool', 'a pooled Buffer still reads back');
  t.end();
});
