/**
 * Parsing and formatting of the numbers a shell user types: addresses, sizes, 64-bit
 * values and hex byte strings, plus the classic hexdump layout.
 *
 * - Numbers are read as C's strtoul(s, NULL, 0), strictly (nothing after the digits):
 *   hex with `0x`, octal with a leading `0` (`010` is 8), otherwise decimal.
 * - Sizes are numbers with an optional binary suffix: K, M, G, T (KiB units, so
 *   `4K` = 4096), case-insensitive, optionally spelled `KiB`/`MiB`/`GiB`/`TiB`.
 * - Everything returns a Result: user input never makes these functions throw.
 * - Addresses can exceed 2^32, so nothing here uses 32-bit bitwise operators on them:
 *   values are built with BigInt and returned as numbers only while they stay exact
 *   (<= 2^53 - 1), or as bigint for full 64-bit values (`parseU64`).
 */

import { strtoul } from './strtoul.js';

export type Result<T> = { ok: true; value: T } | { ok: false; error: string };

export function ok<T>(value: T): Result<T> { return { ok: true, value }; }
export function fail<T = never>(error: string): Result<T> { return { ok: false, error }; }

const SIZE_RE = /^(0[xX][0-9a-fA-F]+|[0-9]+)(?:([kKmMgGtT])((?:iB)?))?$/;
const SIZE_SHIFT: Record<string, bigint> = { k: 10n, m: 20n, g: 30n, t: 40n };

export const U64_MAX = (1n << 64n) - 1n;
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** Quote a user's word for an error message. */
function q(s: string): string {
  return `'${s.length > 40 ? s.slice(0, 40) + '...' : s}'`;
}

/**
 * strtoull(s, NULL, 0) (tools/lib/strtoul.ts), strict: the whole word is one 0x-hex,
 * 0-octal or decimal literal (no blanks or sign), or null. Beyond 64 bits (strtoul's
 * ERANGE) it is 2^64, so every range check refuses it as too large.
 */
function literal(s: string): bigint | null {
  if (!/^[0-9]/.test(s)) return null;
  const r = strtoul(s, 0);
  if (r.end !== s.length) return null;
  return r.overflow ? U64_MAX + 1n : r.value;
}

/** A number as strtoull(s, NULL, 0) reads it (strictly), or null if not one or above `max`. */
export function parseCNumber(s: string, max: bigint = U64_MAX): bigint | null {
  const v = literal(s);
  return v !== null && v <= max ? v : null;
}

/**
 * A non-negative integer that a JavaScript number holds exactly (0 .. 2^53 - 1):
 * decimal, 0 octal or 0x hex. Physical addresses of the emulated machine (<= 52 bits) fit.
 */
export function parseNumber(s: string): Result<number> {
  const v = literal(s);
  if (v === null) return fail(`invalid number ${q(s)}`);
  if (v > SAFE_MAX) return fail(`number too large ${q(s)} (max 0x${SAFE_MAX.toString(16)})`);
  return ok(Number(v));
}

/** A 64-bit unsigned value (0 .. 2^64 - 1), e.g. an MSR value or a full PTE. */
export function parseU64(s: string): Result<bigint> {
  const v = literal(s);
  if (v === null) return fail(`invalid number ${q(s)}`);
  if (v > U64_MAX) return fail(`number does not fit in 64 bits ${q(s)}`);
  return ok(v);
}

/**
 * An integer in [min, max]; `what` names it in the error ("nodes must be 1..8").
 */
export function parseIntIn(s: string, min: number, max: number, what: string): Result<number> {
  const r = parseNumber(s);
  if (!r.ok || r.value < min || r.value > max) {
    return fail(`${what} must be a number in ${min}..${max}, not ${q(s)}`);
  }
  return r;
}

/** A byte count: a number with an optional K/M/G/T suffix (binary units). */
export function parseSize(s: string): Result<number> {
  const m = SIZE_RE.exec(s);
  if (!m) return fail(`invalid size ${q(s)} (examples: 4096, 0x1000, 4K, 16M, 1G)`);
  const base = literal(m[1])!;
  const shift = m[2] ? SIZE_SHIFT[m[2].toLowerCase()] : 0n;
  const v = base << shift;
  if (v > SAFE_MAX) return fail(`size too large ${q(s)}`);
  return ok(Number(v));
}

/** `on` or `off`. */
export function parseOnOff(s: string, what: string): Result<boolean> {
  if (s === 'on') return ok(true);
  if (s === 'off') return ok(false);
  return fail(`${what} must be on or off, not ${q(s)}`);
}

/**
 * A string of hex digit pairs, optionally prefixed by 0x: `deadbeef`, `0x00ff`.
 * An odd number of digits, a non-hex digit or an empty string is an error.
 */
export function parseHexBytes(s: string): Result<Uint8Array> {
  const digits = s.startsWith('0x') || s.startsWith('0X') ? s.slice(2) : s;
  if (digits.length === 0) return fail(`empty hex byte string ${q(s)}`);
  if (!/^[0-9a-fA-F]*$/.test(digits)) return fail(`invalid hex byte string ${q(s)}`);
  if (digits.length % 2 !== 0) return fail(`hex byte string needs an even number of digits ${q(s)}`);
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return ok(out);
}

/** A byte count the short way when it is exact: 4096 -> "4K", 3 -> "3", 1536 -> "1536". */
export function formatSize(bytes: number): string {
  const units: [string, number][] = [['T', 2 ** 40], ['G', 2 ** 30], ['M', 2 ** 20], ['K', 2 ** 10]];
  for (const [suffix, unit] of units) {
    if (bytes !== 0 && bytes % unit === 0) return `${bytes / unit}${suffix}`;
  }
  return String(bytes);
}

/** `n` as 0x-prefixed hex, at least `width` digits. Exact for any safe integer or bigint. */
export function formatHex(n: number | bigint, width = 0): string {
  return '0x' + BigInt(n).toString(16).padStart(width, '0');
}

/**
 * The bytes as hexdump -C lines, addresses counted from `addr` (which may exceed 2^32):
 *
 *   0000000000001000  68 65 6c 6c 6f 20 77 6f  72 6c 64 0a              |hello world.|
 *
 * Sixteen bytes a line, an extra space after the eighth, printable ASCII (0x20..0x7e)
 * in the right column and '.' for the rest. Each line ends with '\n'; no bytes, no lines.
 * Throws RangeError for a negative or non-integer address (a caller's bug, not input).
 */
export function formatHexdump(addr: number | bigint, bytes: Uint8Array): string {
  if (typeof addr === 'number' && !(Number.isSafeInteger(addr) && addr >= 0)) {
    throw new RangeError(`formatHexdump: bad address ${addr}`);
  }
  const base = BigInt(addr);
  if (base < 0n) throw new RangeError(`formatHexdump: bad address ${addr}`);
  let text = '';
  for (let off = 0; off < bytes.length; off += 16) {
    const line = bytes.subarray(off, off + 16);
    let hex = '';
    let ascii = '';
    for (let i = 0; i < line.length; i++) {
      const b = line[i];
      hex += b.toString(16).padStart(2, '0') + ' ';
      if (i === 7) hex += ' ';
      ascii += b >= 0x20 && b <= 0x7e ? String.fromCharCode(b) : '.';
    }
    const where = (base + BigInt(off)).toString(16).padStart(16, '0');
    text += `${where}  ${hex.padEnd(49)} |${ascii}|\n`;
  }
  return text;
}
