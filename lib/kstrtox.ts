/**
 * Converting strings to integers the way the kernel does (Linux lib/kstrtox.c, and
 * simple_strtoull from lib/vsprintf.c). The one place in this tree that reads a number
 * out of kernel input: boot parameters (kernel/params.ts), memparse (lib/cmdline.ts).
 *
 * - Base 0 picks the base from the prefix as C's strtoul(s, NULL, 0) does: `0x`/`0X`
 *   hex, a leading `0` octal (so `010` is 8), otherwise decimal. Base 16 accepts an
 *   optional `0x`.
 * - kstrto*() accept one optional trailing newline and nothing else after the digits,
 *   return 0 and store through `res`, or -EINVAL (not a number) / -ERANGE (too large).
 *   A leading `+` is accepted; `-` only by the signed ones.
 * - Results are JavaScript numbers up to Number.MAX_SAFE_INTEGER (kstrtoul, the widest
 *   a number carries exactly); kstrtoull gives a bigint for the full 64 bits.
 */
import { EINVAL, ERANGE } from '../kernel/errno.js';

/** Where a kstrto*() result goes (Linux passes a pointer). */
export interface kstrto_res<T> { val: T }

const U64_MAX = (1n << 64n) - 1n;

/** _parse_integer_fixup_radix(): the base and where the digits start. */
function fixup_radix(s: string, i: number, base: number): { base: number; i: number } {
  const hexPrefix = s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X') && /[0-9a-fA-F]/.test(s[i + 2] ?? '');
  if (base === 0) {
    if (hexPrefix) return { base: 16, i: i + 2 };
    if (s[i] === '0') return { base: 8, i };
    return { base: 10, i };
  }
  if (base === 16 && hexPrefix) return { base, i: i + 2 };
  return { base, i };
}

function digit(c: string | undefined): number {
  if (c === undefined) return -1;
  const d = parseInt(c, 36);
  return Number.isNaN(d) ? -1 : d;
}

/**
 * simple_strtoull(s, &end, base): the longest valid prefix (no error for trailing text,
 * none for overflow: it wraps at 64 bits as the C code does). `end` is the index after
 * the last digit used (`start` when there were none).
 */
export function simple_strtoull(s: string, base: number, start = 0): { val: bigint; end: number } {
  const r = fixup_radix(s, start, base);
  let v = 0n;
  let i = r.i;
  const b = BigInt(r.base);
  for (let d = digit(s[i]); d >= 0 && d < r.base; d = digit(s[++i])) v = (v * b + BigInt(d)) & U64_MAX;
  return { val: v, end: i };
}

/** _kstrtoull(): the strict form; 0, -EINVAL or -ERANGE. */
export function kstrtoull(s: string, base: number, res: kstrto_res<bigint>): number {
  let i = s[0] === '+' ? 1 : 0;
  const r = fixup_radix(s, i, base);
  i = r.i;
  const b = BigInt(r.base);
  let v = 0n;
  let n = 0;
  let overflow = false;
  for (let d = digit(s[i]); d >= 0 && d < r.base; d = digit(s[++i]), n++) {
    v = v * b + BigInt(d);
    if (v > U64_MAX) overflow = true;
  }
  if (n === 0) return -EINVAL;
  if (s[i] === '\n') i++;
  if (i !== s.length) return -EINVAL;
  if (overflow) return -ERANGE;
  res.val = v;
  return 0;
}

function kstrto_ranged(s: string, base: number, res: kstrto_res<number>, signed: boolean, max: bigint): number {
  const neg = signed && s[0] === '-';
  const r: kstrto_res<bigint> = { val: 0n };
  const err = kstrtoull(neg ? s.slice(1) : s, base, r);
  if (err) return err;
  if (neg ? r.val > max + 1n : r.val > max) return -ERANGE;
  res.val = Number(neg ? -r.val : r.val);
  return 0;
}

/** kstrtoul(): unsigned, up to Number.MAX_SAFE_INTEGER here. */
export function kstrtoul(s: string, base: number, res: kstrto_res<number>): number {
  return kstrto_ranged(s, base, res, false, BigInt(Number.MAX_SAFE_INTEGER));
}
/** kstrtouint(): unsigned 32-bit. */
export function kstrtouint(s: string, base: number, res: kstrto_res<number>): number {
  return kstrto_ranged(s, base, res, false, 0xffffffffn);
}
/** kstrtoint(): signed 32-bit. */
export function kstrtoint(s: string, base: number, res: kstrto_res<number>): number {
  return kstrto_ranged(s, base, res, true, 0x7fffffffn);
}

/**
 * kstrtobool(): the first character decides: y/Y/t/T/1 true, n/N/f/F/0 false, and
 * "on"/"off" by their second (Linux lib/kstrtox.c since 4.x).
 */
export function kstrtobool(s: string, res: kstrto_res<boolean>): number {
  switch (s[0]) {
    case 'y': case 'Y': case 't': case 'T': case '1': res.val = true; return 0;
    case 'n': case 'N': case 'f': case 'F': case '0': res.val = false; return 0;
    case 'o': case 'O':
      if (s[1] === 'n' || s[1] === 'N') { res.val = true; return 0; }
      if (s[1] === 'f' || s[1] === 'F') { res.val = false; return 0; }
      return -EINVAL;
    default: return -EINVAL;
  }
}
