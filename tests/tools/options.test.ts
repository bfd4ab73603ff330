/**
 * tools/options.ts: argv -> MachineConfig, kernel command line and mode, or an error.
 */
import t from 'tap';
import { defaultConfig, MiB, GiB } from '../../arch/x86/hw/config.js';
import { parseOptions, USAGE, type ShellOptions } from '../../tools/options.js';

function run(argv: string[], tty = true): ShellOptions {
  const r = parseOptions(argv, tty);
  if (r.kind !== 'run') throw new Error(`expected options, got ${r.kind}: ${r.kind === 'error' ? r.message : ''}`);
  return r.options;
}

function error(argv: string[], tty = true): string {
  const r = parseOptions(argv, tty);
  if (r.kind !== 'error') throw new Error(`expected an error for ${JSON.stringify(argv)}, got ${r.kind}`);
  return r.message;
}

t.test('defaults', async (t) => {
  const o = run([]);
  t.same(o.config, defaultConfig());
  t.equal(o.cmdline, '');
  t.same(o.mode, { kind: 'interactive' });
  t.same(run([], false).mode, { kind: 'stdin' }, 'stdin not a terminal');
});

t.test('modes', async (t) => {
  t.same(run(['-c', 'echo a; echo b']).mode, { kind: 'command', text: 'echo a; echo b' });
  t.same(run(['-c', 'x'], false).mode, { kind: 'command', text: 'x' }, '-c wins over piped stdin');
  t.same(run(['script.sh']).mode, { kind: 'file', path: 'script.sh', args: [] });
  t.same(run(['--seed', '3', 'script.sh', '--nodes', '1']).mode, { kind: 'file', path: 'script.sh', args: [] }, 'options after FILE');
  t.same(run(['-']).mode, { kind: 'stdin' }, "FILE '-' is stdin");
  t.same(run(['--', '-weird.sh']).mode, { kind: 'file', path: '-weird.sh', args: [] }, '-- ends options');
  t.match(error(['-c', 'x', 'f.sh']), /both -c and FILE/);
  t.same(run(['a.sh', 'b.sh', 'c']).mode, { kind: 'file', path: 'a.sh', args: ['b.sh', 'c'] }, 'operands after FILE are its $1...');
  t.same(run(['a.sh', 'x', '--nodes', '1', 'y']).mode, { kind: 'file', path: 'a.sh', args: ['x', 'y'] }, 'options among them');
  t.same(run(['a.sh', '--', '--nodes', '-x']).mode, { kind: 'file', path: 'a.sh', args: ['--nodes', '-x'] }, 'after --, all ARGs');
  t.same(run(['--', 'a', '-b']).mode, { kind: 'file', path: 'a', args: ['-b'] }, '-- then FILE then ARGs');
  t.match(error(['-', 'a']), /arguments after FILE '-'/);
  t.match(error(['-c', 'x', '-c', 'y']), /more than one '-c'/);
});

t.test('help', async (t) => {
  for (const h of ['-h', '--help']) {
    const r = parseOptions(['--nodes', '1', h, '--bogus'], true);
    t.same(r, { kind: 'help', text: USAGE }, h);
  }
  t.match(USAGE, /^usage: /);
  for (const opt of ['--seed', '--mem', '--nodes', '--cpus', '--nvram', '--nvram-file', '--cpu', '--bios', '--append', '-c']) {
    t.ok(USAGE.includes(opt), `usage mentions ${opt}`);
  }
});

t.test('machine shape', async (t) => {
  const o = run(['--seed', '0xdeadbeef', '--nodes', '4', '--cpus=8', '--mem', '1G', '--nvram', '0']);
  t.equal(o.config.seed, 0xdeadbeef);
  t.equal(o.config.packages, 4);
  t.equal(o.config.cpusPerPackage, 8);
  t.equal(o.config.memPerNode, GiB);
  t.equal(o.config.nvramSize, 0);
  t.equal(run(['--mem', '16M']).config.memPerNode, 16 * MiB, 'minimum');
  t.equal(run(['--nvram', '4K', '--nvram-file', 'x.nvram']).config.nvramFile, 'x.nvram');
  t.equal(run([]).config.nvramFile, null);
  const cases: [string[], RegExp][] = [
    [['--nodes', '0'], /--nodes must be a number in 1\.\.8, not '0'/],
    [['--nodes', '9'], /--nodes/],
    [['--cpus', '65'], /--cpus must be a number in 1\.\.64/],
    [['--cpus', 'two'], /--cpus/],
    [['--seed', '0x100000000'], /--seed/],
    [['--seed', '-1'], /--seed/],
    [['--mem', '8M'], /--mem must be at least 16M/],
    [['--mem', '16777217'], /multiple of 4K/],
    [['--mem', '2T'], /at most 1T/],
    [['--mem', 'lots'], /--mem: invalid size/],
    [['--nvram', '100'], /--nvram must be a multiple of 4K/],
    [['--nvram', '0', '--nvram-file', 'f'], /--nvram-file needs NVRAM/],
    [['--nvram-file='], /needs a path/],
    [['--nodes'], /option '--nodes' needs a value/],
    [['--frobnicate'], /unknown option '--frobnicate'/],
    [['-x'], /unknown option '-x'/],
    [['--nodes', '8', '--mem', '1T', '--cpu', 'maxphyaddr=40'], /beyond maxphyaddr=40/],
  ];
  for (const [argv, re] of cases) t.match(error(argv), re, argv.join(' '));
});

t.test('--cpu', async (t) => {
  const o = run(['--cpu', 'tme=off,pconfig=off,max_keyid_bits=4,maxphyaddr=52,pconfig_rev=1.3,algs=aes-xts-256,bypass=off']);
  t.same(o.config.cpu, {
    tme: false, pconfig: false, maxKeyIdBits: 4, maxKeys: 15, maxPhysAddr: 52,
    algs: ['aes-xts-256'], bypassSupported: false, pconfigRev: '1.3',
  }, 'max_keys follows max_keyid_bits');
  t.equal(o.config.bios.keyIdBits, 4, 'BIOS keyid_bits follows max_keyid_bits');
  const k = run(['--cpu', 'max_keyid_bits=4,max_keys=7', '--bios', 'keyid_bits=2']);
  t.equal(k.config.cpu.maxKeys, 7);
  t.equal(k.config.bios.keyIdBits, 2, 'explicit BIOS setting kept');
  t.equal(run(['--cpu', 'max_keyid_bits=0']).config.cpu.maxKeys, 0);
  t.same(run(['--cpu', 'algs=none']).config.cpu.algs, []);
  t.same(run(['--cpu', 'tme=off', '--cpu', 'pconfig=off']).config.cpu.tme, false, 'repeated options merge');
  t.equal(run(['--cpu=maxphyaddr=36']).config.cpu.maxPhysAddr, 36, '--cpu=K=V');
  const cases: [string, RegExp][] = [
    ['maxphyaddr=35', /--cpu maxphyaddr must be a number in 36\.\.52/],
    ['maxphyaddr=53', /maxphyaddr/],
    ['max_keyid_bits=16', /--cpu max_keyid_bits must be a number in 0\.\.15/],
    ['max_keys=64', /max_keys=64 needs max_keyid_bits >= 7/],
    ['max_keys=32768', /max_keys/],
    ['tme=yes', /--cpu tme must be on or off, not 'yes'/],
    ['pconfig_rev=2', /sdm or 1\.3/],
    ['algs=aes-xts-512', /aes-xts-128 or aes-xts-256/],
    ['algs=aes-xts-128+aes-xts-128', /listed twice/],
    ['colour=blue', /--cpu: unknown key 'colour'/],
    ['tme', /expected KEY=VALUE, not 'tme'/],
    ['tme=on,', /expected KEY=VALUE/],
    ['', /needs KEY=VALUE/],
  ];
  for (const [spec, re] of cases) t.match(error(['--cpu', spec]), re, spec);
});

t.test('--bios', async (t) => {
  const o = run(['--bios', 'tme=off,lock=off,keyid_bits=3,policy=aes-xts-256,algs=aes-xts-128+aes-xts-256,' +
    'bypass=on,exclude=0x100000:1M,inconsistent=on,savekey=on,vtd=off']);
  t.same(o.config.bios, {
    tme: false, lock: false, keyIdBits: 3, policy: 'aes-xts-256', algs: ['aes-xts-128', 'aes-xts-256'],
    bypass: true, exclude: { base: 0x100000, size: MiB }, inconsistent: true, saveKey: true, vtd: false,
  });
  t.same(run(['--bios', 'algs=none']).config.bios.algs, []);
  t.equal(run(['--bios', 'exclude=0:4K,exclude=none']).config.bios.exclude, null, 'last setting wins');
  t.equal(run(['--bios', 'keyid_bits=15']).config.bios.keyIdBits, 15,
    'more KeyID bits than the CPU has is left to the machine');
  const cases: [string, RegExp][] = [
    ['keyid_bits=16', /--bios keyid_bits must be a number in 0\.\.15/],
    ['policy=aes', /--bios policy must be aes-xts-128 or aes-xts-256/],
    ['lock=1', /--bios lock must be on or off/],
    ['exclude=0x1000', /BASE:SIZE/],
    ['exclude=0:3K', /power of two >= 4K/],
    ['exclude=0:2K', /power of two >= 4K/],
    ['exclude=0x1000:8K', /base must be a multiple of its size/],
    ['exclude=x:4K', /exclude base: invalid number/],
    ['exclude=0:big', /exclude size: invalid size/],
    ['exclude=0x400000000000:4K', /beyond maxphyaddr/],
    ['savekey=maybe', /savekey/],
    ['turbo=on', /--bios: unknown key 'turbo'/],
  ];
  for (const [spec, re] of cases) t.match(error(['--bios', spec]), re, spec);
});

t.test('--append', async (t) => {
  t.equal(run(['--append', 'mktme.keys=4 debug']).cmdline, 'mktme.keys=4 debug');
  t.equal(run(['--append', 'a', '--append=b c', '--append', '  ']).cmdline, 'a b c', 'joined');
});

t.test('an error changes nothing it was given', async (t) => {
  const argv = ['--nodes', '1', '--bios', 'keyid_bits=99'];
  const copy = [...argv];
  const r = parseOptions(argv, true);
  t.equal(r.kind, 'error');
  if (r.kind === 'error') t.equal(r.usage, USAGE);
  t.same(argv, copy);
  t.same(run([]).config, defaultConfig(), 'defaults untouched by earlier parses');
});
