/**
 * The kernel shell end to end, in-process through runShell: boot output on stderr,
 * each kernel command's output, usage errors (status 2), failures (status 1, msr-tools'
 * words for rdmsr/wrmsr), reboot/poweroff, the DIMM probe, counters, determinism, and
 * never a host stack trace.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t, { type Test } from 'tap';
import { makeConfig } from '../../arch/x86/hw/config.js';
import { cpuid } from '../../arch/x86/hw/cpuid.js';
import { runShell, type ShellResult } from '../../tools/shell.js';
import { Machine } from '../../arch/x86/hw/machine.js';
import { lineEncrypt, platformKey } from '../hw/helpers.js';

const Q = ['--append', 'quiet'];

async function sh(script: string, ...opts: string[]): Promise<ShellResult> {
  return runShell([...opts, '-c', script]);
}

/** A guard over many bad inputs whose messages are checked elsewhere: absence is the point. */
function noTrace(t: Test, r: ShellResult): void {
  t.notMatch(r.stderr, /internal error|\n\s+at .*:\d+:\d+/, 'no internal error or stack trace');
}

t.test('boot log on stderr, commands on stdout', async (t) => {
  const r = await sh('echo hi');
  t.equal(r.status, 0);
  t.equal(r.stdout, 'hi\n');
  t.match(r.stderr, /^\[    0\.000000\] Linux version 6\.8\.0-mktme/);
  t.match(r.stderr, /x86\/mktme: 63 KeyIDs available/);
  t.match(r.stderr, /smp: Brought up 2 nodes, 4 CPUs/);
  const q = await sh('echo hi', ...Q);
  t.equal(q.stderr, '', 'quiet: nothing on the console');
});

t.test('cat, ls, dmesg', async (t) => {
  const r = await sh('ls; ls /proc /sys; cat /proc/cmdline; dmesg', ...Q);
  t.equal(r.status, 0);
  const out = r.stdout.split('\n');
  t.same(out.slice(0, 3), ['dev', 'proc', 'sys'], 'the root: the three kernel file systems');
  t.equal(out[3], '/proc:');
  const procNames = out.slice(4, out.indexOf(''));
  t.ok(['cmdline', 'cpuinfo', 'version'].every((n) => procNames.includes(n)), 'procfs own files listed');
  t.same(procNames, [...procNames].sort(), 'sorted');
  t.equal(out[out.indexOf('') + 1], '/sys:', 'a blank line, then the next directory');
  t.ok(out.includes('quiet'));
  t.ok(out.some((l) => /^\[ +\d+\.\d{6}\] x86\/tme: enabled by BIOS$/.test(l)), 'dmesg has the whole log');
  t.same((await sh('ls /dev /dev/cpu/0 /dev/null', ...Q)).stdout.split('\n'),
    ['/dev/null', '', '/dev:', 'cpu', 'kvm', 'mem', 'null', 'vda', 'vfio', '', '/dev/cpu/0:', 'msr', ''],
    '/dev is devtmpfs: a file argument by name first, then each directory');
  const e = await sh('cat /proc/nope /proc/cmdline; ls /nope', ...Q);
  t.equal(e.status, 1);
  t.equal(e.stdout, 'quiet\n', 'the readable file is still printed');
  t.equal(e.stderr, "cat: /proc/nope: No such file or directory\nls: cannot access '/nope': No such file or directory\n");
  const d = await sh('cat /proc; echo piped | cat; cat /proc/cmdline | cat -', ...Q);
  t.equal(d.stderr, 'cat: /proc: Is a directory\n');
  t.equal(d.stdout, 'piped\nquiet\n', 'without FILE (or with -) cat copies its standard input');
  t.equal(d.status, 0);
  t.equal((await sh('dmesg -c; dmesg', ...Q)).stdout.split('\n').filter((l) => l.includes('Linux version')).length, 1,
    'dmesg -c prints the log, then clears it');
});

t.test('cpuid', async (t) => {
  const r = await sh('cpuid -r -l 0 -c 0; cpuid -r -l 7 -s 0 -c 0; cpuid -r --cpu=2 --leaf=0xb --subleaf=1; cpuid -kr -c2 -l 1', ...Q);
  t.equal(r.status, 0);
  const hex8 = (v: number): string => '0x' + v.toString(16).padStart(8, '0');
  const want = ([pkg, thread, leaf, sub]: number[]): string => {
    const x = cpuid(makeConfig(), pkg, thread, leaf, sub);
    return `   ${hex8(leaf)} 0x${sub.toString(16).padStart(2, '0')}: ` +
      `eax=${hex8(x.eax)} ebx=${hex8(x.ebx)} ecx=${hex8(x.ecx)} edx=${hex8(x.edx)}`;
  };
  const lines = r.stdout.split('\n');
  t.same(lines, ['CPU 0:', want([0, 0, 0, 0]), 'CPU 0:', want([0, 0, 7, 0]), 'CPU 2:', want([1, 0, 0xb, 1]),
    'CPU 2:', want([1, 0, 1, 0]), '']);
  t.equal(lines[1], '   0x00000000 0x00: eax=0x0000001b ebx=0x756e6547 ecx=0x6c65746e edx=0x49656e69');
  t.match(lines[7], /eax=0x000606a6 ebx=0x02020800 /, 'CPU 2 reports APIC id 2');
  const e = await sh('cpuid -c 9 -l 0', ...Q);
  t.same([e.status, e.stderr], [1, 'cpuid: CPU 9: No such device or address\n']);
  for (const [bad, msg] of [['cpuid 7', /^cpuid: unrecognized argument: 7\n$/], ['cpuid -q', /^cpuid: invalid option -- 'q'\n/],
    ['cpuid -l', /^cpuid: option requires an argument -- 'l'\n/], ['cpuid -l x', /^cpuid: -l\/--leaf must be a number: x\n$/],
    ['cpuid -s 1', /^cpuid: -s\/--subleaf requires that -l\/--leaf also be specified\n$/]] as [string, RegExp][]) {
    const u = await sh(bad, ...Q);
    t.equal(u.status, 1, `${bad}: status 1`);
    t.match(u.stderr, msg);
    noTrace(t, u);
  }
});

t.test('rdmsr and wrmsr: msr-tools syntax and words', async (t) => {
  const r = await sh('rdmsr 0x982; rdmsr -p 3 0x982; rdmsr -a 0x981; rdmsr -c 0x982; rdmsr -0 0x982; ' +
    'rdmsr -X -c0 0x982; rdmsr -f 35:32 0x982; rdmsr -d -f 50:48 0x982; rdmsr -u 0x982; rdmsr -o 0x982; ' +
    'rdmsr -f 7:4 -0 2434; rdmsr -p1 -x 0x982', ...Q);
  t.equal(r.status, 0);
  t.same(r.stdout.split('\n'), [
    '5000600000003',
    '5000600000003',
    '3f680000005', '3f680000005', '3f680000005', '3f680000005',
    '0x5000600000003',
    '0005000600000003',
    '0x0005000600000003',
    '6',
    '-1',
    (0x5000600000003n).toString(),
    (0x5000600000003n).toString(8),
    '0',
    '5000600000003',
    '',
  ]);
  const g = await sh('rdmsr 0x123', ...Q);
  t.equal(g.status, 4, 'msr-tools: cannot read is exit 4');
  t.equal(g.stderr, 'rdmsr: CPU 0 cannot read MSR 0x00000123\n');
  const w = await sh('wrmsr 0x982 0', ...Q);
  t.equal(w.status, 4, 'msr-tools: cannot set is exit 4');
  t.equal(w.stderr, 'wrmsr: CPU 0 cannot set MSR 0x00000982 to 0x0000000000000000\n');
  const w2 = await sh('wrmsr -p 1 0x10 5', ...Q);
  t.equal(w2.stderr, 'wrmsr: CPU 1 cannot set MSR 0x00000010 to 0x0000000000000005\n');
  // no /dev/cpu/4/msr node: open(2) fails with ENOENT and msr-tools perror()s it, exit 127
  const n = await sh('rdmsr -p 4 0x10', ...Q);
  t.same([n.stderr, n.status], ['rdmsr: open: No such file or directory\n', 127]);
  const n2 = await sh('wrmsr -p 4 0x10 1', ...Q);
  t.same([n2.stderr, n2.status], ['wrmsr: open: No such file or directory\n', 127]);
  for (const bad of ['rdmsr', 'rdmsr 1 2', 'rdmsr -f 3:4 0x10', 'rdmsr -f 64:0 0x10', 'rdmsr -z 1',
    'rdmsr -p x 1', 'rdmsr -p 256 1', 'wrmsr', 'wrmsr 0x10', 'wrmsr -q 1 2']) {
    const u = await sh(bad, ...Q);
    t.equal(u.status, 127, `${bad}: usage, exit 127`);
    t.match(u.stderr, /^Usage: (rd|wr)msr \[options\] regno/m);
    noTrace(t, u);
  }
});

t.test('pconfig command', async (t) => {
  const k = '00112233445566778899aabbccddeeff';
  const r = await sh(`pconfig 1 set-key-direct aes-xts-128 ${k} ${k}; pconfig 2 set-key-random aes-xts-256; ` +
    'pconfig 2 no-encrypt aes-xts-128; pconfig 2 clear-key aes-xts-256', ...Q);
  t.equal(r.status, 0);
  t.equal(r.stdout, 'package 0: 0 (KeyID was successfully programmed)\npackage 1: 0 (KeyID was successfully programmed)\n'.repeat(4));
  t.equal(r.stderr, '', 'key bytes are never echoed (stdout is exact above, stderr empty)');
  const f = await sh('pconfig 0 clear-key aes-xts-128', ...Q);
  t.equal(f.status, 1);
  t.equal(f.stdout, 'package 0: -22 (Invalid argument)\npackage 1: -22 (Invalid argument)\n');
  t.match(f.stderr, /^\[ +\d+\.\d{6}\] x86\/pconfig: MKTME_KEY_PROGRAM on CPU 0 raised #GP\(0\)\n/);
  t.match(f.stderr, /\] x86\/pconfig: MKTME_KEY_PROGRAM on CPU 2 raised #GP\(0\)\n$/);
  const n = await sh('pconfig 1 set-key-random aes-xts-128', '--cpu', 'pconfig=off', ...Q);
  t.equal(n.stdout, 'package 0: -6 (No such device or address)\npackage 1: -6 (No such device or address)\n');
  for (const bad of ['pconfig', 'pconfig 1 set-key-direct aes-xts-128', 'pconfig 1 frob aes-xts-128',
    'pconfig 1 clear-key des', 'pconfig x clear-key aes-xts-128', 'pconfig 70000 clear-key aes-xts-128',
    'pconfig 1 set-key-direct aes-xts-128 zz 00', 'pconfig 1 set-key-random aes-xts-128 00']) {
    const u = await sh(bad, ...Q);
    t.equal(u.status, 2, `${bad}: usage`);
    noTrace(t, u);
  }
  const secret = await sh('pconfig 1 set-key-direct aes-xts-128 ' + 'ab'.repeat(16) + ' 0xz1', ...Q);
  t.equal(secret.stderr, 'pconfig: KEY2 must be hex bytes, at most 64\nusage: pconfig KEYID CMD ALG [KEY1 KEY2]\n',
    'a bad key is not quoted back');
});

t.test('dimm: read, write, save, restore', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mktme-dimm-'));
  const file = path.join(dir, 'snap');
  const r = await sh(`dimm write 0x200000 48656c6c6f; dimm read 0x200000 16; dimm save 0x200000 5 ${file}; ` +
    `dimm write 0x200000 0000000000; dimm read 0x200000 5; dimm restore ${file}; dimm read 0x200000 5`, ...Q);
  t.equal(r.status, 0, r.stderr);
  t.same(r.stdout.split('\n'), [
    '0000000000200000  48 65 6c 6c 6f 00 00 00  00 00 00 00 00 00 00 00  |Hello...........|',
    '0000000000200000  00 00 00 00 00                                    |.....|',
    '0000000000200000  48 65 6c 6c 6f                                    |Hello|',
    '',
  ]);
  const e = await sh(`dimm read 0xc0000000 16; dimm restore ${path.join(dir, 'none')}; dimm read 0 0; dimm frob`, ...Q);
  t.equal(e.stderr, 'dimm: no DIMM behind all of [mem 0x00000000c0000000-0x00000000c000000f]\n' +
    `dimm: ${path.join(dir, 'none')}: No such file or directory\n` +
    "dimm: LEN must be 1..1048576, not '0'\nusage: dimm read ADDR LEN | write ADDR HEX | save ADDR LEN FILE | restore FILE\n" +
    "dimm: unknown subcommand 'frob'\nusage: dimm read ADDR LEN | write ADDR HEX | save ADDR LEN FILE | restore FILE\n");
  fs.writeFileSync(path.join(dir, 'junk'), 'not a snapshot');
  t.equal((await sh(`dimm restore ${path.join(dir, 'junk')}`, ...Q)).stderr, `dimm: ${path.join(dir, 'junk')}: not a dimm snapshot\n`);
  fs.rmSync(dir, { recursive: true });
});

t.test('TME: what the DIMM holds is ciphertext until bypass', async (t) => {
  // The kernel's page tables were written through KeyID 0: under TME the DIMM does not
  // show their plaintext; with bypass it does.
  const enc = await sh('sync; dimm read 0x1400000 64', ...Q);
  const plain = await sh('sync; dimm read 0x1400000 64', '--bios', 'bypass=on', ...Q);
  const bytesOf = (dump: string): Uint8Array =>
    Uint8Array.from(dump.trimEnd().split('\n').flatMap((l) => l.slice(18, 66).trim().split(/\s+/)).map((h) => parseInt(h, 16)));
  // Under TME the line is AES-XTS under package 0's platform key (seed 1, replayed).
  const key = platformKey(new Machine(makeConfig()), 0);
  t.same(bytesOf(enc.stdout), lineEncrypt(key, 0x1400000, bytesOf(plain.stdout)), 'the bypass plaintext under the platform key');
  const otherSeed = await sh('sync; dimm read 0x1400000 64', '--seed', '2', ...Q);
  t.same(bytesOf(otherSeed.stdout), lineEncrypt(platformKey(new Machine(makeConfig({ seed: 2 })), 0), 0x1400000, bytesOf(plain.stdout)),
    'a new platform key per seed: seed 2\'s');
});

t.test('stat and sync', async (t) => {
  const r = await sh('stat --reset; stat; pconfig 1 set-key-random aes-xts-128; sync; stat', ...Q);
  t.equal(r.status, 0);
  const first = r.stdout.split('pconfig: ')[1];
  t.match(first, /^0 executions, 0 faults\n/);
  t.match(r.stdout, /pconfig: 2 executions: 2 success, 0 faults\n$/);
  t.match(r.stdout, /engine lines:\n {2}package {2}keyid {2}encrypted {2}decrypted\n/);
  t.match(r.stdout, /cache: \d+ hits, \d+ misses, \d+ writebacks, \d+ flushes\n/);
  t.match(r.stdout, /tlb: \d+ hits, \d+ misses\n/);
  t.equal((await sh('stat -x', ...Q)).status, 2);
});

t.test('reboot and poweroff', async (t) => {
  const r = await sh('dimm write 0x300000 aa; reboot; dimm read 0x300000 1; reboot --cold; dmesg; poweroff; echo not reached',
    '--append', 'loglevel=1');
  t.equal(r.status, 0);
  t.match(r.stdout, /^0000000000300000 {2}aa /, 'DRAM survives a warm reset');
  t.notMatch(r.stdout, /not reached/); // poweroff ends the script: absence is the point
  t.equal(r.stdout.match(/Linux version/g)?.length, 1, 'dmesg shows the current boot only');
  t.match(r.stderr, /reboot: Restarting system\n.*reboot: Restarting system\n.*reboot: Power down\n$/s);
  t.equal((await sh('reboot now', ...Q)).status, 2);
  t.equal((await sh('poweroff now', ...Q)).status, 2);
});

t.test('bad machine options fail before boot; a panic is reported', async (t) => {
  const r = await runShell(['--nodes', '0', '-c', 'echo']);
  t.equal(r.status, 2);
  t.match(r.stderr, /^sh: --nodes must be a number in 1\.\.8/);
  noTrace(t, r);
});

t.test('same seed, same output; stdin scripts', async (t) => {
  const script = 'pconfig 3 set-key-random aes-xts-256; sync; dimm read 0x1400000 32; stat; cat /proc/cpuinfo\n';
  const a = await runShell(['--seed', '9'], script);
  const b = await runShell(['--seed', '9'], script);
  t.equal(a.status, 0);
  t.equal(a.stdout, b.stdout);
  t.equal(a.stderr, b.stderr);
});
