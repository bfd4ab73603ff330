/**
 * The shell language on the booted kernel: the issue's `cat /proc/cpuinfo | grep flags`,
 * filters reading /proc through the kernel, values captured from kernel commands and
 * used again, subshells that keep kernel effects but not variables, redirection into
 * /proc refused, sleep on the virtual clock, and the launcher's options.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { REPO_ROOT } from '../lib/paths.js';
import { runShell } from '../../tools/shell.js';
import { sleepCommand } from '../../tools/commands/sleep.js';
import { Clock, TSC_HZ } from '../../arch/x86/hw/clock.js';
import { bufferIo } from '../../tools/lib/io.js';
import type { KernelShellContext } from '../../tools/context.js';

const BOOT = ['--seed', '7', '--nodes', '1', '--cpus', '2', '--nvram', '0', '--append', 'quiet'];

t.test('pipes and captures on the kernel', async (t) => {
  const r = await runShell([...BOOT, '-c', [
    'cat /proc/cpuinfo | grep -c ^flags',
    'grep ^flags /proc/cpuinfo | head -n 1 | cut -d: -f1',
    'n=$(grep -c ^processor /proc/cpuinfo); echo "$n CPUs"',
    'a=$(mmap 4K); write $a "hello pipe"; read $a 10',
    'pfn=$(pagemap $a | grep -o "pfn=0x[0-9a-f]*" | cut -d= -f2); [ -n "$pfn" ] && echo "pfn found"',
    'read $a 16 -r | xxd',
    'echo "pid $$"',
    '(exit 4); echo "subshell $?"; echo $(exit 5); ps | grep -c " sh$"',
    'b=$(mmap 4K); [ "$b" != "$a" ] && echo "second mapping kept"',
    'echo x > /proc/version; echo "status $?"',
    'cat /proc/nonexistent; echo "status $?"',
  ].join('\n')]);
  t.equal(r.stdout, [
    '2', 'flags\t\t', '2 CPUs', 'hello pipe', 'pfn found',
    '00000000: 6865 6c6c 6f20 7069 7065 0000 0000 0000  hello pipe......',
    'pid 2', 'subshell 4', '', '1', 'second mapping kept', 'status 1', 'status 1', '',
  ].join('\n'));
  // The kernel refuses the write (at open or at write, as procfs decides); the shell
  // reports either the way sh and coreutils do.
  t.match(r.stderr, /^(sh: \/proc\/version: |echo: write error: )[A-Z][a-z ]+\ncat: \/proc\/nonexistent: No such file or directory\n$/);
  t.equal(r.status, 0);
});

t.test('wc counts what cat prints', async (t) => {
  const r = await runShell([...BOOT, '-c', 'wc -l < /proc/meminfo; cat /proc/meminfo']);
  const [count, ...rest] = r.stdout.split('\n');
  t.equal(Number(count), rest.join('\n').split('\n').filter((l) => l !== '').length);
  // /proc files have st_size 0, so wc's columns are as narrow as on Linux.
  const v = await runShell([...BOOT, '-c', 'wc /proc/version; cat /proc/version | wc -c']);
  const bytes = v.stdout.split('\n')[1];
  t.match(v.stdout, new RegExp(`^1 \\d+ ${bytes} /proc/version\n`));
});

t.test('commands read standard input in -c mode', async (t) => {
  const r = await runShell([...BOOT, '-c', 'grep b | wc -l'], 'a\nb\nbb\n');
  t.equal(r.stdout, '2\n');
});

t.test('a script on stdin is not the commands\' input', async (t) => {
  const r = await runShell([...BOOT], 'cat; echo after\n');
  t.equal(r.stdout, 'after\n');
});

t.test('sleep runs the virtual clock', async (t) => {
  const clock = new Clock();
  const ctx = { machine: { clock } } as unknown as KernelShellContext;
  const buf = bufferIo();
  const api = {} as Parameters<typeof sleepCommand.run>[3];
  t.equal(sleepCommand.run(ctx, ['1.5', '1m'], buf.io, api), 0);
  t.equal(clock.cycles, 61.5 * TSC_HZ);
  t.throws(() => sleepCommand.run(ctx, ['x'], buf.io, api), { name: 'UsageError' });
  t.throws(() => sleepCommand.run(ctx, ['31d'], buf.io, api), { name: 'UsageError' });
  const r = await runShell([...BOOT, '-c', 'sleep; echo $?; sleep 2s; echo $?']);
  t.equal(r.stdout, '2\n0\n');
  t.equal(r.stderr, 'sleep: missing operand\nusage: sleep NUMBER[smhd]...\n');
});

t.test('--version and --help', async (t) => {
  const v = await runShell(['--version']);
  t.match(v.stdout, /^shell \(mktme-kernel\) \d+\.\d+\.\d+\n$/);
  const h = await runShell(['--help']);
  t.match(h.stdout, /--version/);
  t.match(h.stdout, /MKTME_HISTORY/);
});

t.test('tools/shell: an executable sh script, the package\'s bin', async (t) => {
  const launcher = path.join(REPO_ROOT, 'tools', 'shell');
  t.ok((fs.statSync(launcher).mode & 0o111) !== 0, 'executable');
  t.match(fs.readFileSync(launcher, 'utf8'), /^#!\/bin\/sh\n/);
  execFileSync('/bin/sh', ['-n', launcher]); // parses as sh (throws otherwise)
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
  t.same(pkg.bin, { 'mktme-shell': 'tools/shell' });
  t.match(fs.readFileSync(path.join(REPO_ROOT, 'Makefile'), 'utf8'), /\nrun:.*\n\t@NODE=\$\(NODE\) NODE_V8='\$\(NODE_V8\)' \.\/tools\/shell \$\(ARGS\)\n/);
});
