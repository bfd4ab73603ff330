/**
 * C's strtoul()/strtoull() as glibc implements them (ISO C 7.22.1.4), for tools whose
 * real counterparts parse their arguments with them (keyutils, msr-tools): leading
 * white space, an optional sign (a minus negates modulo 2^64), base 0 = `0x` hex,
 * leading-0 octal or decimal, digits as long as they are valid, overflow saturating to
 * ULONG_MAX. `end` is the index of the first unparsed character, as `*endptr` would
 * be; no digits at all gives value 0 and end 0.
 */

export const ULONG_MAX = (1n << 64n) - 1n;

export interface StrtoulResult {
  value: bigint;
  /** Index of the first character not parsed (the C endptr). */
  end: number;
  /** ERANGE: the digits overflowed unsigned long. */
  overflow: boolean;
}

function digit(c: string): number {
  const x = c.charCodeAt(0);
  if (x >= 48 && x <= 57) return x - 48;
  if (x >= 97 && x <= 122) return x - 87;
  if (x >= 65 && x <= 90) return x - 55;
  return 99;
}

export function strtoul(s: string, base = 0): StrtoulResult {
  let i = 0;
  while (i < s.length && /[ \t\n\v\f\r]/.test(s[i])) i++;
  let neg = false;
  if (s[i] === '+' || s[i] === '-') { neg = s[i] === '-'; i++; }
  if ((base === 0 || base === 16) && s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X') &&
      i + 2 < s.length && digit(s[i + 2]) < 16) {
    i += 2;
    base = 16;
  } else if (base === 0) {
    base = s[i] === '0' ? 8 : 10;
  }
  const start = i;
  let v = 0n;
  let overflow = false;
  const b = BigInt(base);
  while (i < s.length && digit(s[i]) < base) {
    v = v * b + BigInt(digit(s[i]));
    if (v > ULONG_MAX) overflow = true;
    i++;
  }
  if (i === start) return { value: 0n, end: 0, overflow: false };
  if (overflow) return { value: ULONG_MAX, end: i, overflow };
  return { value: neg && v !== 0n ? (1n << 64n) - v : v, end: i, overflow };
}

/** (int) of an unsigned long, as keyutils stores a key_serial_t. */
export function toInt32(v: bigint): number { return Number(BigInt.asIntN(32, v)); }

/** (unsigned int) of an unsigned long. */
export function toUint32(v: bigint): number { return Number(BigInt.asUintN(32, v)); }
