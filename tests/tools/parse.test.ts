/**
 * tools/lib/parse.ts: numbers, sizes, 64-bit values, hex byte strings, hexdump layout.
 */
import t from 'tap';
import {
  formatHex, formatHexdump, formatSize, parseHexBytes, parseIntIn, parseNumber, parseOnOff, parseSize, parseU64,
} from '../../tools/lib/parse.js';

t.test('parseNumber: decimal and hex', async (t) => {
  t.same(parseNumber('0'), { ok: true, value: 0 });
  t.same(parseNumber('4096'), { ok: true, value: 4096 });
  t.same(parseNumber('010'), { ok: true, value: 8 }, 'leading zero is octal, as strtoul(s, NULL, 0)');
  t.equal(parseNumber('08').ok, false, '8 is not an octal digit');
  t.same(parseNumber('0x1000'), { ok: true, value: 4096 });
  t.same(parseNumber('0XfF'), { ok: true, value: 255 });
  t.same(parseNumber('0x100000000'), { ok: true, value: 2 ** 32 }, 'above 32 bits');
  t.same(parseNumber('0x1fffffffffffff'), { ok: true, value: Number.MAX_SAFE_INTEGER });
  for (const bad of ['', ' 1', '1 ', '-1', '+1', '0x', '1.5', '1e3', 'abc', '0x1g', '12K', '0b101']) {
    const r = parseNumber(bad);
    t.equal(r.ok, false, `rejects '${bad}'`);
    if (!r.ok) t.match(r.error, /invalid number/);
  }
  const big = parseNumber('0x20000000000000');
  t.equal(big.ok, false, '2^53 does not fit exactly');
  if (!big.ok) t.match(big.error, /too large/);
});

t.test('parseU64: full 64-bit range as bigint', async (t) => {
  t.same(parseU64('0xffffffffffffffff'), { ok: true, value: (1n << 64n) - 1n });
  t.same(parseU64('18446744073709551615'), { ok: true, value: (1n << 64n) - 1n });
  t.same(parseU64('0x8000000000000982'), { ok: true, value: 0x8000000000000982n });
  t.same(parseU64('7'), { ok: true, value: 7n });
  const over = parseU64('0x10000000000000000');
  t.equal(over.ok, false);
  if (!over.ok) t.match(over.error, /64 bits/);
  t.equal(parseU64('-1').ok, false);
  t.equal(parseU64('x').ok, false);
});

t.test('parseSize: K/M/G/T suffixes in binary units', async (t) => {
  t.same(parseSize('4K'), { ok: true, value: 4096 });
  t.same(parseSize('4k'), { ok: true, value: 4096 });
  t.same(parseSize('16M'), { ok: true, value: 16 * 2 ** 20 });
  t.same(parseSize('2G'), { ok: true, value: 2 * 2 ** 30 });
  t.same(parseSize('1T'), { ok: true, value: 2 ** 40 });
  t.same(parseSize('64MiB'), { ok: true, value: 64 * 2 ** 20 });
  t.same(parseSize('0x10M'), { ok: true, value: 16 * 2 ** 20 });
  t.same(parseSize('4096'), { ok: true, value: 4096 });
  t.same(parseSize('0'), { ok: true, value: 0 });
  for (const bad of ['', 'K', '4KB', '4 K', '1.5G', '-4K', '4X', '4Kib']) {
    t.equal(parseSize(bad).ok, false, `rejects '${bad}'`);
  }
  t.equal(parseSize('99999999T').ok, false, 'too large');
});

t.test('parseIntIn and parseOnOff', async (t) => {
  t.same(parseIntIn('8', 1, 8, 'nodes'), { ok: true, value: 8 });
  const r = parseIntIn('9', 1, 8, 'nodes');
  t.equal(r.ok, false);
  if (!r.ok) t.equal(r.error, "nodes must be a number in 1..8, not '9'");
  t.equal(parseIntIn('x', 1, 8, 'nodes').ok, false);
  t.same(parseOnOff('on', 'tme'), { ok: true, value: true });
  t.same(parseOnOff('off', 'tme'), { ok: true, value: false });
  const b = parseOnOff('yes', 'tme');
  t.equal(b.ok, false);
  if (!b.ok) t.equal(b.error, "tme must be on or off, not 'yes'");
});

t.test('parseHexBytes', async (t) => {
  const r = parseHexBytes('deadBEEF');
  t.ok(r.ok);
  if (r.ok) t.same([...r.value], [0xde, 0xad, 0xbe, 0xef]);
  const p = parseHexBytes('0x00ff');
  t.ok(p.ok);
  if (p.ok) t.same([...p.value], [0, 255]);
  for (const [bad, why] of [['abc', /even/], ['0x', /empty/], ['', /empty/], ['zz', /invalid/], ['0x12 34', /invalid/]] as const) {
    const e = parseHexBytes(bad);
    t.equal(e.ok, false, `rejects '${bad}'`);
    if (!e.ok) t.match(e.error, why);
  }
});

t.test('formatSize and formatHex', async (t) => {
  t.equal(formatSize(4096), '4K');
  t.equal(formatSize(128 * 2 ** 20), '128M');
  t.equal(formatSize(3 * 2 ** 30), '3G');
  t.equal(formatSize(1536), '1536');
  t.equal(formatSize(0), '0');
  t.equal(formatHex(255, 4), '0x00ff');
  t.equal(formatHex(2 ** 40), '0x10000000000');
  t.equal(formatHex((1n << 64n) - 1n), '0xffffffffffffffff');
});

t.test('formatHexdump', async (t) => {
  const hello = new TextEncoder().encode('hello world\n');
  t.equal(formatHexdump(0x1000, hello),
    '0000000000001000  68 65 6c 6c 6f 20 77 6f  72 6c 64 0a              |hello world.|\n');
  const full = Uint8Array.from({ length: 20 }, (_, i) => i + 0x7c);
  t.equal(formatHexdump(2 ** 40 + 0xff0, full),
    '0000010000000ff0  7c 7d 7e 7f 80 81 82 83  84 85 86 87 88 89 8a 8b  ||}~.............|\n' +
    '0000010000001000  8c 8d 8e 8f                                       |....|\n',
    'addresses above 2^32 and carry into the next line; non-printables as dots');
  t.equal(formatHexdump(0, new Uint8Array(0)), '', 'no bytes, no lines');
  t.equal(formatHexdump(0xffffffffffffff00n, new Uint8Array(1)),
    'ffffffffffffff00  00                                                |.|\n', 'bigint address');
  // Lines line up: the ascii column starts at the same offset whatever the length.
  for (let n = 1; n <= 16; n++) {
    const line = formatHexdump(0, new Uint8Array(n));
    t.equal(line.indexOf('|'), 16 + 2 + 49 + 1, `ascii column for ${n} bytes`);
  }
  t.throws(() => formatHexdump(-1, hello), RangeError);
  t.throws(() => formatHexdump(1.5, hello), RangeError);
});
