/**
 * Helpers shared by the crypto tests: hex, node:crypto's XTS as an oracle, seeded keys,
 * and the address tweak built independently of the code under test.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { Rng } from '../../arch/x86/hw/rng.js';

export const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');

/** node:crypto AES-XTS (OpenSSL) over one data unit. Refuses key1 == key2. */
export function nodeXts(encrypt: boolean, k1: Uint8Array, k2: Uint8Array, tweak: Uint8Array, data: Uint8Array): Uint8Array {
  const alg = k1.length === 16 ? 'aes-128-xts' : 'aes-256-xts';
  const key = Buffer.concat([k1, k2]);
  const c = encrypt ? createCipheriv(alg, key, tweak) : createDecipheriv(alg, key, tweak);
  return new Uint8Array(Buffer.concat([c.update(data), c.final()]));
}

/** A random key pair with key1 != key2 (OpenSSL refuses equal halves). */
export function keys(rng: Rng, len: number): [Uint8Array, Uint8Array] {
  const k1 = rng.fill(new Uint8Array(len));
  const k2 = rng.fill(new Uint8Array(len));
  k2[0] = k1[0] ^ 0x5a;
  return [k1, k2];
}

/** The tweak for `addr`: 16 bytes little-endian, via BigInt. */
export function bigTweak(addr: number): Uint8Array {
  const b = new Uint8Array(16);
  let v = BigInt(addr);
  for (let i = 0; i < 16; i++, v >>= 8n) b[i] = Number(v & 0xffn);
  return b;
}
