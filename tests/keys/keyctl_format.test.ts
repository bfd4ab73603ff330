/**
 * keyutils' output formats as the shell's keyctl prints them, checked against lines
 * keyutils itself prints for the same inputs.
 */
import t from 'tap';
import {
  calcPerms, formatDescribe, formatListLine, formatPrint, formatRead, formatShow, parseKeyId,
} from '../../tools/commands/keyctl_format.js';

t.test('calc_perms: possessor plus the owner/group/other byte that applies', (t) => {
  // 0x3f010000: possessor all, user view only
  t.equal(calcPerms(0x3f010000, 0, 0, 0, 0), '--alswrv');
  t.equal(calcPerms(0x01010000, 0, 0, 0, 0), '-------v');
  t.equal(calcPerms(0x00000003, 5, 5, 0, 0), '------rv', 'other byte for a stranger');
  t.equal(calcPerms(0x00000b00, 5, 7, 0, 7), '----s-rv', 'group byte when gid matches');
  t.equal(calcPerms(0x003f0000, 0, 0, 0, 0), '--alswrv', 'owner byte for the owner');
  t.end();
});

t.test('describe and list lines', (t) => {
  const d = { type: 'user', uid: 0, gid: 0, perm: 0x3f010000, description: 'k1' };
  t.equal(formatDescribe(123456789, d), '123456789: alswrv-----v------------     0     0 user: k1\n');
  t.equal(formatListLine(42, d, 0, 0), '       42: --alswrv     0     0 user: k1\n');
  t.end();
});

t.test('read: groups of four bytes, 32 a line', (t) => {
  t.equal(formatRead(new Uint8Array(0)), 'No data in key\n');
  const data = new Uint8Array(36).map((_, i) => i);
  t.equal(formatRead(data),
    '36 bytes of data in key:\n' +
    '00010203 04050607 08090a0b 0c0d0e0f 10111213 14151617 18191a1b 1c1d1e1f\n' +
    '20212223\n');
  t.end();
});

t.test('print: text or :hex:', (t) => {
  t.equal(formatPrint(new TextEncoder().encode('hello')), 'hello\n');
  t.equal(formatPrint(new Uint8Array([1, 0xab])), ':hex:01ab\n');
  t.end();
});

t.test('show: the tree with keyutils indentation', (t) => {
  const ring = (serial: number, desc: string, children: unknown[]) => ({
    serial, error: 0, read_error: 0,
    info: { type: 'keyring', uid: 0, gid: 0, perm: 0x3f030000, description: desc }, children,
  });
  const leaf = (serial: number, desc: string) => ({
    serial, error: 0, read_error: 0, children: null,
    info: { type: 'user', uid: 0, gid: 0, perm: 0x3f010000, description: desc },
  });
  const tree = ring(100, '_ses', [ring(200, '_uid.0', [leaf(300, 'a'), leaf(301, 'b')]), leaf(400, 'c')]);
  const out = formatShow('Session Keyring', tree as never, 0, 0, false, () => '');
  t.equal(out, [
    'Session Keyring',
    '       100 --alswrv      0     0  keyring: _ses',
    '       200 --alswrv      0     0   \\_ keyring: _uid.0',
    '       300 --alswrv      0     0   |   \\_ user: a',
    '       301 --alswrv      0     0   |   \\_ user: b',
    '       400 --alswrv      0     0   \\_ user: c',
    '',
  ].join('\n'));
  t.end();
});

t.test('key IDs: specials, names, numbers, errors', (t) => {
  t.same(parseKeyId('@s'), { kind: 'id', id: -3 });
  t.same(parseKeyId('@us'), { kind: 'id', id: -5 });
  t.same(parseKeyId('%user:k1'), { kind: 'name', type: 'user', desc: 'k1' });
  t.same(parseKeyId('%:_ses'), { kind: 'name', type: 'keyring', desc: '_ses' });
  t.same(parseKeyId('0x10'), { kind: 'id', id: 16 });
  t.same(parseKeyId('123'), { kind: 'id', id: 123 });
  t.same(parseKeyId('@x'), { kind: 'error', message: "Unknown special key: '@x'", status: 2 });
  t.same(parseKeyId('12z'), { kind: 'error', message: "Unparsable key: '12z'", status: 2 });
  t.same(parseKeyId('%user'), { kind: 'error', message: 'Incorrect key-by-name spec', status: 2 });
  t.end();
});
