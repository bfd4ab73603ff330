/**
 * keyctl against keyutils 1.6.3 (keyctl.c, keyctl(1)): hex payloads, pipe, rlist, the new commands, format() and `Unknown command`,
 * strtoul-style numbers, the logon type, revoked keys shown as `expd`, `.user_reg`'s gid.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { runShell, type ShellResult } from '../../tools/shell.js';
import { KEYCTL_FORMAT } from '../../tools/commands/keyctl.js';

const sh = (script: string): Promise<ShellResult> => runShell(['--append', 'quiet', '-c', script]);

t.test('K1/K2/K3: add -x, read, pipe, rlist', async (t) => {
  const r = await sh('keyctl add -x user hx "41 42 43 00 ff" @s; keyctl read %user:hx; keyctl pipe %user:hx; ' +
    'keyctl newring r1 @s; keyctl rlist %:r1; keyctl rlist @s; keyctl add user v v0 %:r1; keyctl pipe %user:v');
  t.equal(r.stderr, '');
  const [hx, r1, v] = [...r.stdout.matchAll(/(?:^|\n|\xff)(\d{6,})\n/g)].map((m) => m[1]);
  t.equal(r.stdout, `${hx}\n5 bytes of data in key:\n41424300 ff\nABC\u0000\u00ff${r1}\n\n${hx} ${r1}\n${v}\nv0`,
    'read shows the decoded bytes; pipe writes them raw, without a newline; rlist of an empty ring is an empty line');
  const bad = await sh('keyctl add -x user a 4 @s');
  t.same([bad.stderr, bad.status], ['Short hex doublet\n', 1]);
  const bad2 = await sh('keyctl add -x user a zz @s');
  t.same([bad2.stderr, bad2.status], ['Bad hex doublet\n', 1]);
});

t.test('K5/K6: format() on a wrong argument count, Unknown command', async (t) => {
  t.ok(KEYCTL_FORMAT.startsWith('Format:\n  keyctl --version \n  keyctl add [-x] <type> <desc> <data> <keyring>\n'));
  t.ok(KEYCTL_FORMAT.endsWith('If you do this, prefix the description with "<subtype>:"\n'));
  t.match(KEYCTL_FORMAT, /\n  keyctl purge -s <type> <desc>\n/);
  for (const line of ['keyctl', 'keyctl add user k1', 'keyctl newring', 'keyctl rdescribe @s ""', 'keyctl show @u -x']) {
    const r = await sh(line);
    t.same([r.stdout, r.stderr, r.status], ['', KEYCTL_FORMAT, 2], line);
  }
  const u = await sh('keyctl foo');
  t.same([u.stderr, u.status], ['Unknown command\n', 2]);
  const a = await sh('keyctl re');
  t.same([a.stderr, a.status], ['Ambiguous command\n', 2], 'do_command: a prefix of several commands');
  const p = await sh('keyctl rli @s');
  t.same([p.status, p.stderr], [0, ''], 'a unique prefix selects the command');
});

t.test('K4: --version, update/pupdate, chown/chgrp, new_session, session, purge, reap, get_persistent, supports, security', async (t) => {
  const v = await sh('keyctl --version');
  t.equal(v.stdout, 'keyctl from keyutils-1.6.3 (Built 2022-12-18)\n');
  const hexFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'keyctl-')), 'payload');
  fs.writeFileSync(hexFile, '67 68\n');
  const r = await sh('keyctl add user k a @s; keyctl update %user:k bcd; keyctl print %user:k; ' +
    'keyctl update -x %user:k 6566; keyctl print %user:k; ' +
    `keyctl pupdate -x %user:k < ${hexFile}; keyctl print %user:k; keyctl chgrp %user:k 7; ` +
    'keyctl chown %user:k 1000; keyctl describe %user:k');
  t.equal(r.stderr, '');
  const out = r.stdout.split('\n');
  t.same(out.slice(1, 4), ['bcd', 'ef', 'gh'], 'update, update -x, pupdate -x from stdin');
  t.match(out[4], /^ *\d+: alswrv-----v------------  1000     7 user: k$/, 'chown then chgrp');
  const s = await sh('keyctl new_session; keyctl show; keyctl session - ; keyctl session named keyctl rdescribe @s');
  const [ses] = s.stdout.split('\n');
  t.match(ses, /^\d+$/);
  t.match(s.stdout, new RegExp(`^${ses}\nSession Keyring\n *${ses} --alswrv      0     0  keyring: _ses\n`));
  t.match(s.stderr, /^Joined session keyring: \d+\nJoined session keyring: \d+\n$/);
  t.match(s.stdout, /keyring;0;0;3f130000;named\n$/, 'session NAME PROG runs PROG in the new session');
  const pu = await sh('keyctl add user a x @s; keyctl add user b y @s; keyctl add logon s:c z @s; keyctl purge user; ' +
    'keyctl purge logon s:c; keyctl rlist @s');
  t.same(pu.stdout.split('\n').slice(3), ['purged 2 keys', "logon 's:c'", 'purged 1 keys', '', '']);
  const re = await sh('keyctl add user a x @s; keyctl add user b y @s; keyctl revoke %user:a; keyctl reap -v');
  t.match(re.stdout, /\n(Reap \d+\n)1 keys reaped\n$/);
  const gp = await sh('keyctl get_persistent @s; keyctl get_persistent @s 0; keyctl rdescribe %:_persistent.0');
  const [p1, p2, desc] = gp.stdout.split('\n');
  t.equal(p1, p2, 'the same persistent keyring both times');
  t.equal(desc, 'keyring;0;65534;1f030000;_persistent.0');
  const sp = await sh('keyctl supports --raw; keyctl supports key_invalidate');
  t.same([sp.stdout, sp.status], ['2300\n', 0]);
  t.equal((await sh('keyctl supports move_key')).status, 1);
  t.equal((await sh('keyctl supports nosuch')).status, 3);
  t.equal((await sh('keyctl security @s')).stdout, '\n', 'no LSM: an empty label');
  const dh = await sh('keyctl dh_compute @s @s @s');
  t.same([dh.stderr, dh.status], ['keyctl_dh_compute_alloc: Operation not supported\n', 1]);
});

t.test('K7/K8/K9: show of a bad keyring, strtoul timeouts and permissions', async (t) => {
  const r = await sh('keyctl show 12345');
  t.same([r.stdout, r.stderr, r.status], ['Keyring\n', 'Unable to dump key: Required key not available\n', 1]);
  const to = await sh('keyctl add user k a @s; keyctl timeout %user:k -5');
  t.same([to.stderr, to.status], ['', 0], 'timeout -5 is accepted, as strtoul() reads it');
  const bad = await sh('keyctl add user k a @s; keyctl timeout %user:k 0x10');
  t.same([bad.stderr, bad.status], ["Unparsable timeout: '0x10'\n", 2], 'timeouts are base 10');
  const p = await sh('keyctl add user k a @s; keyctl setperm %user:k -1');
  t.same([p.stderr, p.status], ['keyctl_setperm: Invalid argument\n', 1]);
  const p2 = await sh('keyctl add user k a @s; keyctl setperm %user:k 0x3f010000; keyctl setperm %user:k 077x');
  t.same([p2.stderr, p2.status], ["Unparsable permissions: '077x'\n", 2]);
  const k = await sh('keyctl describe -0x1');
  t.same([k.stderr, k.status], ['keyctl_describe_alloc: Required key not available\n', 1], 'key IDs go through strtoul too');
});

t.test('K10: the logon type', async (t) => {
  const r = await sh('keyctl add logon lg:k4 x @s; keyctl read %logon:lg:k4');
  t.match(r.stdout, /^\d+\n$/);
  t.same([r.stderr, r.status], ['keyctl_read_alloc: Operation not supported\n', 1]);
  const p = await sh('keyctl add logon lg:k4 x @s; keyctl pipe %logon:lg:k4');
  t.equal(p.stderr, 'keyctl_read_alloc: Operation not supported\n');
  const bad = await sh('keyctl add logon k4 x @s');
  t.same([bad.stderr, bad.status], ['add_key: Invalid argument\n', 1]);
  const bad2 = await sh('keyctl add logon :k4 x @s');
  t.equal(bad2.stderr, 'add_key: Invalid argument\n', 'an empty service prefix is refused');
});

t.test('P2/P3: /proc/keys shows a revoked key as expd, .user_reg with gid 65534', async (t) => {
  const r = await sh('keyctl add user t6 x @s; keyctl revoke %user:t6; cat /proc/keys');
  t.match(r.stdout, / IR-Q---     1 expd 3f010000     0     0 user      t6: 0\n/);
  t.match(r.stdout, / I--Q---     1 perm 0c030000     0 65534 keyring   \.user_reg: 2\n/);
});
