/**
 * AES T-tables and single-block AES rounds on them: the tables for the WebAssembly
 * routines (xts-wasm.ts, via tableBytes) and the JS line path xts.ts falls back to when
 * there is no WebAssembly.
 *
 * Why not noble's `unsafe.encrypt/decrypt` for the JS path: noble merges table pairs
 * into 64 Ki-entry tables (640 KiB per direction). A line path that alternates
 * encryption and decryption, inside an emulator with its own working set, keeps missing
 * the cache on them; measured here, these 1 KiB tables run an encrypt+decrypt pair about
 * 1.7x faster. The key schedules are still noble's (`expandKeyLE` / `expandKeyDecLE`),
 * and the tests check every path against the noble-based reference in xts-ref.ts.
 *
 * Layout (the same as noble's): the state is four little-endian 32-bit words, s0 holding
 * bytes 0..3 of the block. FIPS-197 §5.1: one round is
 *   t_c = K_c ^ T0[byte0(s_c)] ^ T1[byte1(s_{c+1})] ^ T2[byte2(s_{c+2})] ^ T3[byte3(s_{c+3})]
 * with T0[x] = (2S(x), S(x), S(x), 3S(x)) packed little-endian and T_{i+1} = rotl8(T_i)
 * (SubBytes + ShiftRows + MixColumns in one lookup). The last round has no MixColumns:
 * its S(x) is masked out of the T tables (T2 has S at byte 0, T3 at byte 1, T0 at byte 2,
 * T1 at byte 3). Decryption is the equivalent inverse cipher (§5.3.5) over the
 * InvMixColumns-adjusted schedule noble's expandKeyDecLE returns, with D0[x] =
 * (14Si, 9Si, 13Si, 11Si) and the ShiftRows order reversed.
 *
 * Table lookups depend on secret data, as in noble (its README says so): no constant
 * time is claimed. This is an emulator's model of a hardware engine.
 */

/** S-box, inverse S-box and the eight round tables, built once at load. */
const SBOX = new Uint8Array(256);
const INV_SBOX = new Uint8Array(256);
const E0 = new Int32Array(256), E1 = new Int32Array(256), E2 = new Int32Array(256), E3 = new Int32Array(256);
const D0 = new Int32Array(256), D1 = new Int32Array(256), D2 = new Int32Array(256), D3 = new Int32Array(256);

/** GF(2^8) multiplication modulo x^8 + x^4 + x^3 + x + 1 (FIPS-197 §4.2). */
function gmul(a: number, b: number): number {
  let r = 0;
  for (; b !== 0; b >>>= 1) {
    if (b & 1) r ^= a;
    a = ((a << 1) ^ (a & 0x80 ? 0x1b : 0)) & 0xff;
  }
  return r;
}

const rotl8 = (x: number): number => (x << 8) | (x >>> 24);

(function buildTables(): void {
  // FIPS-197 §5.1.1: S(x) = affine(x^-1), 0^-1 = 0. Powers of the generator 3 walk all
  // 255 non-zero elements, giving log/antilog tables and so the inverses.
  const exp = new Uint8Array(256);
  const log = new Uint8Array(256);
  for (let i = 0, x = 1; i < 255; i++) {
    exp[i] = x;
    log[x] = i;
    x = gmul(x, 3);
  }
  for (let x = 0; x < 256; x++) {
    const inv = x === 0 ? 0 : exp[(255 - log[x]) % 255];
    let s = inv;
    for (let r = 1; r < 5; r++) s ^= ((inv << r) | (inv >>> (8 - r))) & 0xff;
    SBOX[x] = s ^ 0x63;
  }
  for (let x = 0; x < 256; x++) INV_SBOX[SBOX[x]] = x;
  for (let x = 0; x < 256; x++) {
    const s = SBOX[x];
    const e = gmul(s, 2) | (s << 8) | (s << 16) | (gmul(s, 3) << 24);
    E0[x] = e; E1[x] = rotl8(e); E2[x] = rotl8(E1[x]); E3[x] = rotl8(E2[x]);
    const v = INV_SBOX[x];
    const d = gmul(v, 14) | (gmul(v, 9) << 8) | (gmul(v, 13) << 16) | (gmul(v, 11) << 24);
    D0[x] = d; D1[x] = rotl8(d); D2[x] = rotl8(D1[x]); D3[x] = rotl8(D2[x]);
  }
})();

/**
 * Encrypt one block (s0..s3) under the expanded schedule `xk` (noble's expandKeyLE,
 * viewed as Int32Array) and write the result to out[0..3].
 */
export function encryptBlock(xk: Int32Array, s0: number, s1: number, s2: number, s3: number, out: Int32Array): void {
  s0 ^= xk[0]; s1 ^= xk[1]; s2 ^= xk[2]; s3 ^= xk[3];
  const last = xk.length - 4;
  let k = 4;
  for (; k < last; k += 4) {
    const t0 = xk[k] ^ E0[s0 & 255] ^ E1[(s1 >>> 8) & 255] ^ E2[(s2 >>> 16) & 255] ^ E3[s3 >>> 24];
    const t1 = xk[k + 1] ^ E0[s1 & 255] ^ E1[(s2 >>> 8) & 255] ^ E2[(s3 >>> 16) & 255] ^ E3[s0 >>> 24];
    const t2 = xk[k + 2] ^ E0[s2 & 255] ^ E1[(s3 >>> 8) & 255] ^ E2[(s0 >>> 16) & 255] ^ E3[s1 >>> 24];
    const t3 = xk[k + 3] ^ E0[s3 & 255] ^ E1[(s0 >>> 8) & 255] ^ E2[(s1 >>> 16) & 255] ^ E3[s2 >>> 24];
    s0 = t0; s1 = t1; s2 = t2; s3 = t3;
  }
  out[0] = xk[k] ^ (E2[s0 & 255] & 0xff) ^ (E3[(s1 >>> 8) & 255] & 0xff00)
    ^ (E0[(s2 >>> 16) & 255] & 0xff0000) ^ (E1[s3 >>> 24] & 0xff000000);
  out[1] = xk[k + 1] ^ (E2[s1 & 255] & 0xff) ^ (E3[(s2 >>> 8) & 255] & 0xff00)
    ^ (E0[(s3 >>> 16) & 255] & 0xff0000) ^ (E1[s0 >>> 24] & 0xff000000);
  out[2] = xk[k + 2] ^ (E2[s2 & 255] & 0xff) ^ (E3[(s3 >>> 8) & 255] & 0xff00)
    ^ (E0[(s0 >>> 16) & 255] & 0xff0000) ^ (E1[s1 >>> 24] & 0xff000000);
  out[3] = xk[k + 3] ^ (E2[s3 & 255] & 0xff) ^ (E3[(s0 >>> 8) & 255] & 0xff00)
    ^ (E0[(s1 >>> 16) & 255] & 0xff0000) ^ (E1[s2 >>> 24] & 0xff000000);
}

/**
 * Decrypt one block under the schedule from noble's expandKeyDecLE (viewed as
 * Int32Array); result in out[0..3].
 */
export function decryptBlock(xk: Int32Array, s0: number, s1: number, s2: number, s3: number, out: Int32Array): void {
  s0 ^= xk[0]; s1 ^= xk[1]; s2 ^= xk[2]; s3 ^= xk[3];
  const last = xk.length - 4;
  let k = 4;
  for (; k < last; k += 4) {
    const t0 = xk[k] ^ D0[s0 & 255] ^ D1[(s3 >>> 8) & 255] ^ D2[(s2 >>> 16) & 255] ^ D3[s1 >>> 24];
    const t1 = xk[k + 1] ^ D0[s1 & 255] ^ D1[(s0 >>> 8) & 255] ^ D2[(s3 >>> 16) & 255] ^ D3[s2 >>> 24];
    const t2 = xk[k + 2] ^ D0[s2 & 255] ^ D1[(s1 >>> 8) & 255] ^ D2[(s0 >>> 16) & 255] ^ D3[s3 >>> 24];
    const t3 = xk[k + 3] ^ D0[s3 & 255] ^ D1[(s2 >>> 8) & 255] ^ D2[(s1 >>> 16) & 255] ^ D3[s0 >>> 24];
    s0 = t0; s1 = t1; s2 = t2; s3 = t3;
  }
  const S = INV_SBOX;
  out[0] = xk[k] ^ (S[s0 & 255] | (S[(s3 >>> 8) & 255] << 8) | (S[(s2 >>> 16) & 255] << 16) | (S[s1 >>> 24] << 24));
  out[1] = xk[k + 1] ^ (S[s1 & 255] | (S[(s0 >>> 8) & 255] << 8) | (S[(s3 >>> 16) & 255] << 16) | (S[s2 >>> 24] << 24));
  out[2] = xk[k + 2] ^ (S[s2 & 255] | (S[(s1 >>> 8) & 255] << 8) | (S[(s0 >>> 16) & 255] << 16) | (S[s3 >>> 24] << 24));
  out[3] = xk[k + 3] ^ (S[s3 & 255] | (S[(s2 >>> 8) & 255] << 8) | (S[(s1 >>> 16) & 255] << 16) | (S[s0 >>> 24] << 24));
}

/**
 * The tables as little-endian 32-bit words, for the WebAssembly routines (xts-wasm.ts),
 * 16 KiB: E0..E3, D0..D3, then for the last rounds S(x) << 8k and Si(x) << 8k, k = 0..3
 * (pre-shifted, so a last-round lookup costs what a middle-round one does).
 */
export function tableBytes(): Uint8Array {
  const out = new Uint8Array(16384);
  const dv = new DataView(out.buffer);
  [E0, E1, E2, E3, D0, D1, D2, D3].forEach((t, i) => {
    for (let x = 0; x < 256; x++) dv.setInt32(1024 * i + 4 * x, t[x], true);
  });
  for (let k = 0; k < 4; k++) {
    for (let x = 0; x < 256; x++) {
      dv.setInt32(8192 + 1024 * k + 4 * x, SBOX[x] << (8 * k), true);
      dv.setInt32(12288 + 1024 * k + 4 * x, INV_SBOX[x] << (8 * k), true);
    }
  }
  return out;
}

/** A signed 32-bit view of a noble key schedule (same memory: zeroing one zeroes both). */
export function scheduleView(xk: Uint32Array): Int32Array {
  return new Int32Array(xk.buffer, xk.byteOffset, xk.length);
}
