/**
 * dmesg against util-linux dmesg (sys-utils/dmesg.c): -r, -l, -x, -t, -c/-C, -n,
 * --help, and util-linux's words for bad usage.
 */
import t from 'tap';
import { runShell, type ShellResult } from '../../tools/shell.js';
import { DMESG_HELP } from '../../tools/commands/dmesg.js';

const sh = (script: string, ...opts: string[]): Promise<ShellResult> =>
  runShell(['--append', 'quiet', ...opts, '-c', script]);

t.test('D5: -r, -x, -t, -l', async (t) => {
  const r = await sh('dmesg -r');
  t.match(r.stdout, /^<5>\[    0\.000000\] Linux version 6\.8\.0-mktme /, 'raw: <level> before the timestamp (banner at KERN_NOTICE)');
  t.match(r.stdout, /\n<6>\[ +\d+\.\d{6}\] x86\/tme: enabled by BIOS\n/);
  const x = await sh('dmesg -x -t -l info,5');
  const lines = x.stdout.split('\n').slice(0, -1);
  t.equal(lines[0], 'kern  :notice: Linux version 6.8.0-mktme (mktme@mktme-kernel) (TypeScript 5.9, emulated x86-64) #1 SMP');
  t.ok(lines.includes('kern  :info  : x86/tme: enabled by BIOS'), '-x: facility and level; -t: no timestamp');
  t.ok(lines.every((l) => /^kern  :(info  |notice): /.test(l)), '-l: only the levels asked for');
  const w = await sh('wrmsr 0x983 0; dmesg -l warn');
  t.match(w.stdout, /^\[ +\d+\.\d{6}\] msr: Write to unrecognized MSR 0x983 by wrmsr \(pid: 2\)\.\n\[.*\] msr: See /);
  const bad = await sh('dmesg -l foo');
  t.same([bad.stderr, bad.status], ["dmesg: unknown level 'foo'\n", 1]);
});

t.test('D5: -c, -C and -n need CAP_SYSLOG; -n sets the console level', async (t) => {
  const c = await sh('dmesg -C; dmesg; echo; wrmsr 0x983 0; dmesg -t');
  t.match(c.stdout, /^\nmsr: Write to unrecognized MSR 0x983 by wrmsr \(pid: 2\)\.\nmsr: See .*\n$/, 'after -C: nothing, then only new records');
  const u = await sh('su 1000; dmesg -C; dmesg -c; dmesg -n 1');
  t.equal(u.stderr, 'dmesg: clear kernel buffer failed: Operation not permitted\n' +
    'dmesg: read kernel buffer failed: Operation not permitted\ndmesg: klogctl failed: Operation not permitted\n');
  const n = await sh('wrmsr 0x983 0; dmesg -n 1', '--append', 'loglevel=8');
  t.match(n.stderr, /msr: Write to unrecognized MSR 0x983/, 'loglevel=8: the warning reaches the console');
  const n1 = await sh('dmesg -n 1; wrmsr 0x983 0', '--append', 'loglevel=8');
  t.notMatch(n1.stderr, /msr: Write/, '-n 1: only emergencies reach the console'); // the boot lines before are printed: absence is the point
  t.equal((await sh('dmesg -n 0')).stderr, "dmesg: unknown level '0'\n", '-n takes 1-8');
});

t.test('D5: --help, bad usage', async (t) => {
  const h = await sh('dmesg --help');
  t.same([h.stdout, h.status], [DMESG_HELP, 0]);
  t.match(DMESG_HELP, /\nSupported log levels \(priorities\):\n   emerg - system is unusable\n/);
  t.same([(await sh('dmesg -q')).stderr], ["dmesg: invalid option -- 'q'\nTry 'dmesg --help' for more information.\n"]);
  const o = await sh('dmesg foo');
  t.same([o.stderr, o.status], ["dmesg: bad usage\nTry 'dmesg --help' for more information.\n", 1]);
});

t.test("D2/D3: this tree's own messages are marked; init_memory_mapping is pr_debug", async (t) => {
  const r = await sh('dmesg -t');
  t.notMatch(r.stdout, /init_memory_mapping/, 'pr_debug() is compiled out, as without DEBUG'); // absence is the point
  const own = r.stdout.split('\n').filter((l) => /direct mappings|page-table pages|key type registered/.test(l));
  t.same(own, ['mktme-kernel: x86/mm: direct mappings for KeyIDs 0-63, 1 TiB apart',
    'mktme-kernel: x86/mm: 193 page-table pages for the direct mappings',
    'mktme-kernel: keys: mktme key type registered, 63 KeyIDs']);
});
