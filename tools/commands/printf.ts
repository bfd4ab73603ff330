/**
 * printf FORMAT [ARG...]: POSIX XCU printf, with coreutils' messages. The format is
 * reused while arguments remain; missing arguments are '' or 0.
 *
 * Escapes in FORMAT: \\ \a \b \f \n \r \t \v \" \NNN (octal), \xHH; %b expands them in
 * its argument too (\0NNN there), and \c in %b ends all output. Conversions:
 * %[-+ #0][width][.precision] d i o u x X c s b e E f F g G %, width and precision
 * also as `*`. Integers are 64-bit; numeric arguments are C constants (decimal, 0x hex,
 * leading-0 octal) or 'c for the character's code. Output is bytes: `printf '\377'`
 * writes one byte 0xff, which is how a script produces binary input for a pipe.
 */
import { CommandError, type Command } from '../registry.js';
import { fromLatin1, latin1, utf8, writeBytes } from '../lib/io.js';

/** Widest field printf pads to (coreutils allows INT_MAX; this keeps host memory bounded). */
const FIELD_MAX = 1 << 20;

const SIMPLE_ESC: Record<string, string> = { '\\': '\\', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '"': '"' };

/** Expand backslash escapes; `stop` is set when %b meets \c. Input and output are byte strings. */
function escapes(s: string, inB: boolean, stop: { c: boolean }): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '\\' || i + 1 >= s.length) { out += c; continue; }
    const d = s[i + 1];
    if (d in SIMPLE_ESC) { out += SIMPLE_ESC[d]; i++; continue; }
    if (inB && d === 'c') { stop.c = true; return out; }
    const oct = (inB ? /^0?[0-7]{1,3}/ : /^[0-7]{1,3}/).exec(s.slice(i + 1));
    if (oct && (inB ? true : /[0-7]/.test(d))) {
      const digits = inB && oct[0].startsWith('0') ? oct[0].slice(1) || '0' : oct[0];
      out += String.fromCharCode(parseInt(digits, 8) & 0xff);
      i += oct[0].length;
      continue;
    }
    const hex = /^x([0-9a-fA-F]{1,2})/.exec(s.slice(i + 1));
    if (hex) { out += String.fromCharCode(parseInt(hex[1], 16)); i += hex[0].length; continue; }
    out += '\\' + d;
    i++;
  }
  return out;
}

interface State { status: number; errors: string[] }

/** A numeric argument as C's strtoimax reads it, with coreutils' complaints. */
function number(arg: string | undefined, st: State): bigint {
  if (arg === undefined || arg === '') return 0n;
  if (/^['"]/.test(arg)) return arg.length > 1 ? BigInt(arg.codePointAt(1)!) : 0n;
  const m = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(arg);
  if (!m) {
    st.errors.push(`'${arg}': expected a numeric value`);
    st.status = 1;
    return 0n;
  }
  const t = m[2];
  let v = /^0[xX]/.test(t) ? BigInt(t) : t.length > 1 && t[0] === '0' ? BigInt('0o' + t.slice(1)) : BigInt(t);
  if (m[1] === '-') v = -v;
  if (m[0].length !== arg.length) {
    st.errors.push(`'${arg}': value not completely converted`);
    st.status = 1;
  }
  return v;
}

function float(arg: string | undefined, st: State): number {
  if (arg === undefined || arg === '') return 0;
  if (/^['"]/.test(arg)) return arg.length > 1 ? arg.codePointAt(1)! : 0;
  const v = Number(arg.trim());
  if (Number.isNaN(v) && !/^\s*[+-]?nan/i.test(arg)) {
    st.errors.push(`'${arg}': expected a numeric value`);
    st.status = 1;
    return 0;
  }
  return v;
}

function pad(body: string, flags: string, width: number, numeric: boolean): string {
  if (body.length >= width) return body;
  if (flags.includes('-')) return body.padEnd(width);
  if (numeric && flags.includes('0')) {
    const sign = /^[+\- ]|^0[xX]/.exec(body)?.[0] ?? '';
    return sign + body.slice(sign.length).padStart(width - sign.length, '0');
  }
  return body.padStart(width);
}

function formatG(v: number, prec: number, alt: boolean, upper: boolean): string {
  const p = prec === 0 ? 1 : prec;
  if (v === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(v)));
  let s: string;
  if (exp < -4 || exp >= p) {
    s = v.toExponential(p - 1);
    if (!alt) s = s.replace(/\.?0+e/, 'e');
    s = s.replace(/e([+-])(\d)$/, 'e$10$2');
  } else {
    s = v.toFixed(Math.max(0, p - 1 - exp));
    if (!alt && s.includes('.')) s = s.replace(/\.?0+$/, '');
  }
  return upper ? s.toUpperCase() : s;
}

function convert(conv: string, flags: string, prec: number | null, arg: string | undefined, st: State, stop: { c: boolean }): [string, boolean] {
  const s = latin1(utf8(arg ?? ''));
  switch (conv) {
    case 's': return [prec === null ? s : s.slice(0, prec), false];
    case 'b': return [escapes(s, true, stop), false];
    case 'c': return [s.slice(0, 1), false];
    case 'd': case 'i': {
      const v = BigInt.asIntN(64, number(arg, st));
      let body = (v < 0n ? -v : v).toString();
      if (prec !== null) body = body.padStart(prec, '0');
      const sign = v < 0n ? '-' : flags.includes('+') ? '+' : flags.includes(' ') ? ' ' : '';
      return [sign + body, prec === null];
    }
    case 'o': case 'u': case 'x': case 'X': {
      const v = BigInt.asUintN(64, number(arg, st));
      let body = v.toString(conv === 'o' ? 8 : conv === 'u' ? 10 : 16);
      if (conv === 'X') body = body.toUpperCase();
      if (prec !== null) body = body.padStart(prec, '0');
      if (flags.includes('#') && v !== 0n) body = (conv === 'o' ? '0' : conv === 'x' ? '0x' : conv === 'X' ? '0X' : '') + body;
      return [body, prec === null];
    }
    default: {
      const v = float(arg, st);
      const p = prec ?? 6;
      let body: string;
      if (!Number.isFinite(v)) body = Number.isNaN(v) ? 'nan' : v < 0 ? '-inf' : 'inf';
      else if (conv === 'f' || conv === 'F') body = v.toFixed(p);
      else if (conv === 'e' || conv === 'E') body = v.toExponential(p).replace(/e([+-])(\d)$/, 'e$10$2');
      else body = formatG(v, p, flags.includes('#'), conv === 'G');
      if (conv === 'E' || conv === 'F') body = body.toUpperCase();
      if (v >= 0 && !body.startsWith('-')) body = (flags.includes('+') ? '+' : flags.includes(' ') ? ' ' : '') + body;
      return [body, Number.isFinite(v)];
    }
  }
}

export const printfCommand: Command<unknown> = {
  name: 'printf',
  usage: 'printf FORMAT [ARG...]',
  summary: 'format and print the arguments',
  run(_ctx, args, io) {
    if (args.length === 0) {
      io.err('printf: missing operand\n');
      return 1;
    }
    const format = latin1(utf8(args[0]));
    const rest = args.slice(1);
    const st: State = { status: 0, errors: [] };
    const stop = { c: false };
    let out = '';
    let next = 0;
    const take = (): string | undefined => (next < rest.length ? rest[next++] : undefined);
    do {
      const before = next;
      for (let i = 0; i < format.length && !stop.c; i++) {
        const c = format[i];
        if (c === '\\') {
          const m = /^\\(?:[0-7]{1,3}|x[0-9a-fA-F]{1,2}|.)/s.exec(format.slice(i));
          out += escapes(m![0], false, stop);
          i += m![0].length - 1;
          continue;
        }
        if (c !== '%') { out += c; continue; }
        const m = /^%([-+ #0]*)(\*|[0-9]*)(?:\.(\*|[0-9]*))?(.?)/.exec(format.slice(i))!;
        i += m[0].length - 1;
        const conv = m[4];
        if (conv === '%') { out += '%'; continue; }
        if (!'diouxXcsbeEfFgG'.includes(conv) || conv === '') {
          io.err(`printf: %${m[1]}${m[2]}${m[3] !== undefined ? '.' + m[3] : ''}${conv}: invalid conversion specification\n`);
          writeBytes(io, fromLatin1(out));
          return 1;
        }
        let width = m[2] === '*' ? Number(number(take(), st)) : Number(m[2] || 0);
        let flags = m[1];
        if (width < 0) { flags += '-'; width = -width; }
        const precRaw = m[3] === undefined ? null : m[3] === '*' ? Number(number(take(), st)) : Number(m[3] || 0);
        const prec = precRaw !== null && precRaw < 0 ? null : precRaw;
        if (width > FIELD_MAX || (prec ?? 0) > FIELD_MAX) throw new CommandError(`field width or precision larger than ${FIELD_MAX}`);
        const [body, numeric] = convert(conv, flags, prec, take(), st, stop);
        out += pad(body, flags, width, numeric && !'sbc'.includes(conv));
      }
      if (next === before) break; // the format took no argument: print once
    } while (next < rest.length && !stop.c);
    writeBytes(io, fromLatin1(out));
    for (const e of st.errors) io.err(`printf: ${e}\n`);
    return st.status;
  },
};
