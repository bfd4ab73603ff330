/**
 * rdmsr/wrmsr against msr-tools 1.3 (github.com/intel/msr-tools rdmsr.c, wrmsr.c): exit statuses, the usage text, -r/-V/-h and long options,
 * strtoul-style register numbers, and the kernel's warning on MSR writes.
 */
import t from 'tap';
import { runShell, type ShellResult } from '../../tools/shell.js';
import { RDMSR_USAGE } from '../../tools/commands/rdmsr.js';
import { WRMSR_USAGE } from '../../tools/commands/wrmsr.js';

const sh = (script: string): Promise<ShellResult> => runShell(['--append', 'quiet', '-c', script]);
const res = (r: ShellResult): [string, string, number] => [r.stdout, r.stderr, r.status];

t.test('R2: usage text and exit 127; -h exits 0', async (t) => {
  t.equal(RDMSR_USAGE.split('\n').length, 1 + 13 + 1, 'Usage line + 13 option lines');
  t.equal(WRMSR_USAGE, 'Usage: wrmsr [options] regno value...\n' +
    '  --help         -h  Print this help\n  --version      -V  Print current version\n' +
    '  --all          -a  all processors\n  --processor #  -p  Select processor number (default 0)\n');
  t.same(res(await sh('rdmsr')), ['', RDMSR_USAGE, 127]);
  t.same(res(await sh('wrmsr 0x10')), ['', WRMSR_USAGE, 127]);
  t.same(res(await sh('rdmsr -h')), ['', RDMSR_USAGE, 0]);
  t.same(res(await sh('rdmsr -z 1')), ['', "rdmsr: invalid option -- 'z'\n" + RDMSR_USAGE, 127]);
  t.same(res(await sh('rdmsr --frob 1')), ['', "rdmsr: unrecognized option '--frob'\n" + RDMSR_USAGE, 127]);
  t.same(res(await sh('rdmsr -p 256 1')), ['', RDMSR_USAGE, 127], '-p above 255');
});

t.test('R1: exit statuses 4 (cannot read/set) and 127 (open failed)', async (t) => {
  t.same(res(await sh('rdmsr 0x123')), ['', 'rdmsr: CPU 0 cannot read MSR 0x00000123\n', 4]);
  t.same(res(await sh('wrmsr 0x982 0')), ['', 'wrmsr: CPU 0 cannot set MSR 0x00000982 to 0x0000000000000000\n', 4]);
  // devtmpfs has a node only for each online CPU, so a missing CPU is ENOENT at open (127);
  // `No CPU N` (2) is for a node whose CPU went offline, which this tree never does.
  t.same(res(await sh('rdmsr -p 7 0x10')), ['', 'rdmsr: open: No such file or directory\n', 127]);
  t.same(res(await sh('su 1000; rdmsr 0x981')), ['', 'rdmsr: open: Permission denied\n', 127], 'crw------- root:root');
});

t.test('R3: -r, -V and long options', async (t) => {
  t.same(res(await sh('rdmsr -r -c 0x982')), ['{0x03,0x00,0x00,0x00,0x06,0x00,0x05,0x00}\n', '', 0]);
  t.equal((await sh('rdmsr -r 0x982')).stdout, '\u0003\u0000\u0000\u0000\u0006\u0000\u0005\u0000', '8 raw bytes, little-endian');
  // Bytes of 0x80 and up stay single bytes (IA32_TME_CAPABILITY has some): the file gets exactly 8.
  const hex = (await sh('rdmsr 0x981')).stdout.trim();
  const le = [...Array(8)].map((_, i) => ((BigInt('0x' + hex) >> BigInt(8 * i)) & 0xffn).toString(16).padStart(2, '0'));
  t.ok(le.some((b) => parseInt(b, 16) >= 0x80), 'the value has a byte of 0x80 or more');
  const ascii = le.map((b) => { const v = parseInt(b, 16); return v >= 0x20 && v <= 0x7e ? String.fromCharCode(v) : '.'; }).join('');
  t.equal((await sh('rdmsr -r 0x981 | hexdump -C')).stdout, `00000000  ${le.join(' ')}                           |${ascii}|\n00000008\n`);
  t.same(res(await sh('rdmsr -V')), ['', 'rdmsr: version msr-tools-1.3\n', 0]);
  t.same(res(await sh('wrmsr --version')), ['', 'wrmsr: version msr-tools-1.3\n', 0]);
  const l = await sh('rdmsr --all 0x982; rdmsr --processor 1 --c-language 0x982; rdmsr --bitfield=35:32 0x982; ' +
    'rdmsr 0x982 --cpu=2 --capital-hexadecimal --zero');
  t.same(res(l), ['5000600000003\n'.repeat(4) + '0x5000600000003\n6\n0005000600000003\n', '', 0],
    'long names, =VALUE, unambiguous abbreviations, options after the operand');
  t.match((await sh('rdmsr --c 1')).stderr, /^rdmsr: option '--c' is ambiguous; possibilities: '--capital-hexadecimal' '--c-language' '--cpu'\n/);
});

t.test('R7: register numbers are strtoul(s, NULL, 0), unchecked', async (t) => {
  t.same(res(await sh('rdmsr foo')), ['', 'rdmsr: CPU 0 cannot read MSR 0x00000000\n', 4]);
  t.same(res(await sh('wrmsr foo bar')), ['', 'wrmsr: CPU 0 cannot set MSR 0x00000000 to 0x0000000000000000\n', 4]);
  t.same(res(await sh('rdmsr 0x982junk')), ['5000600000003\n', '', 0], 'the digits before the junk');
  t.same(res(await sh('wrmsr -- 0x10 -1')), ['', 'wrmsr: CPU 0 cannot set MSR 0x00000010 to 0xffffffffffffffff\n', 4],
    'strtoull("-1") (after --: getopt would take -1 for an option)');
});

t.test('R5: the kernel warns about a write to an MSR it does not know, rate-limited', async (t) => {
  const r = await sh('wrmsr 0x983 0; wrmsr -p 1 0x983 0; dmesg');
  const warn = r.stdout.split('\n').filter((l) => l.includes('msr: '));
  t.equal(warn.length, 2, 'one warning pair in 30 seconds');
  t.match(warn[0], /^\[ +\d+\.\d{6}\] msr: Write to unrecognized MSR 0x983 by wrmsr \(pid: 2\)\.$/);
  t.match(warn[1], /\] msr: See https:\/\/git\.kernel\.org\/pub\/scm\/linux\/kernel\/git\/tip\/tip\.git\/about for details\.$/);
});

t.test('R5: msr.allow_writes=on|off|default', async (t) => {
  const off = await runShell(['--append', 'quiet msr.allow_writes=off', '-c', 'wrmsr 0x983 0']);
  t.same(res(off), ['', 'wrmsr: pwrite: Operation not permitted\n', 127], 'off: filter_write refuses, -EPERM');
  const on = await runShell(['--append', 'quiet msr.allow_writes=on', '-c', 'wrmsr 0x983 0; dmesg -l warn']);
  t.equal(on.stdout, '', 'on: no warning (dmesg -l warn prints nothing)');
  t.equal(on.stderr, 'wrmsr: CPU 0 cannot set MSR 0x00000983 to 0x0000000000000000\n', 'the write itself still goes to the CPU');
});

t.test('an MSR write from user space taints the kernel (TAINT_CPU_OUT_OF_SPEC, S)', async (t) => {
  const { test_taint, TAINT_CPU_OUT_OF_SPEC } = await import('../../kernel/panic.js');
  await sh('rdmsr 0x10');
  t.equal(test_taint(TAINT_CPU_OUT_OF_SPEC), false, 'reads do not taint');
  await sh('wrmsr 0x982 0');
  t.equal(test_taint(TAINT_CPU_OUT_OF_SPEC), true, 'even a write the CPU refused (Linux taints before wrmsr_safe_on_cpu)');
  await sh('wrmsr -a 0x10 0');
  t.equal(test_taint(TAINT_CPU_OUT_OF_SPEC), true);
  await sh(':');
  t.equal(test_taint(TAINT_CPU_OUT_OF_SPEC), false, 'a new boot starts untainted');
});
