/**
 * The kernel command line: splitting (quotes), kstrto*() and memparse, the registered
 * parameters (early_param, __setup, module_param) and their malformed forms, unknown
 * parameters (Linux's message, argv before envp, dotted names, a misspelled parameter of
 * a known module, words after "--"), and their effect on a boot (log level, mem=,
 * mktme.*, /proc/cmdline, the order of the first boot messages).
 */
import t from 'tap';
import { mktme_noflush } from '../../arch/x86/mm/mktme.js';
import { e820__mem_limit } from '../../arch/x86/kernel/e820.js';
import { vfs_read } from '../../fs/proc/generic.js';
import { EINVAL, ERANGE } from '../../kernel/errno.js';
import {
  early_param, init_args, module_param, param_get, param_ops_bool, param_ops_uint, print_early_param_warnings,
  print_unknown_bootoptions, setup_boot_params,
} from '../../kernel/params.js';
import { get_console_loglevel, log_records, printk_init, set_console_loglevel } from '../../kernel/printk.js';
import { memparse, split_cmdline } from '../../lib/cmdline.js';
import { kstrtobool, kstrtoint, kstrtoul, kstrtoull, kstrtouint, simple_strtoull } from '../../lib/kstrtox.js';
import { bootKernel } from '../lib/boot.js';

/** Parse `cmdline` with a fresh log; the lines the parse prints. */
function parse(cmdline: string): string[] {
  printk_init(null);
  setup_boot_params(cmdline);
  print_early_param_warnings();
  print_unknown_bootoptions();
  return log_records().map((r) => r.text);
}

t.test('split_cmdline: whitespace, quotes, first = splits', (t) => {
  t.same(split_cmdline('  a  b=1\tc="x y" "d=e f" g=h=i '), [
    { param: 'a', val: null },
    { param: 'b', val: '1' },
    { param: 'c', val: 'x y' },
    { param: 'd', val: 'e f' },
    { param: 'g', val: 'h=i' },
  ]);
  t.same(split_cmdline(''), []);
  t.end();
});

t.test('kstrto*: base 0 as strtoul(s, NULL, 0), strict ends, ranges', (t) => {
  const r = { val: -1 };
  t.equal(kstrtoul('010', 0, r), 0); t.equal(r.val, 8, '010 is octal');
  t.equal(kstrtoul('0x1F', 0, r), 0); t.equal(r.val, 31);
  t.equal(kstrtoul('0X1f\n', 0, r), 0, 'one trailing newline'); t.equal(r.val, 31);
  t.equal(kstrtoul('10', 0, r), 0); t.equal(r.val, 10);
  t.equal(kstrtoul('+7', 10, r), 0); t.equal(r.val, 7);
  t.equal(kstrtoul('ff', 16, r), 0); t.equal(r.val, 255);
  t.equal(kstrtoul('0xff', 16, r), 0); t.equal(r.val, 255);
  r.val = 99;
  for (const bad of ['', '08', '12a', '0x', '-1', ' 1', '1\n\n']) t.equal(kstrtoul(bad, 0, r), -EINVAL, `'${bad}'`);
  t.equal(r.val, 99, 'a refused string stores nothing');
  t.equal(kstrtouint('4294967295', 0, r), 0); t.equal(r.val, 0xffffffff);
  t.equal(kstrtouint('4294967296', 0, r), -ERANGE);
  t.equal(kstrtoint('-2147483648', 0, r), 0); t.equal(r.val, -(2 ** 31));
  t.equal(kstrtoint('2147483648', 0, r), -ERANGE);
  t.equal(kstrtoul('9007199254740992', 0, r), -ERANGE, 'beyond 2^53 - 1');
  const u = { val: 0n };
  t.equal(kstrtoull('0xffffffffffffffff', 0, u), 0); t.equal(u.val, 2n ** 64n - 1n);
  t.equal(kstrtoull('0x10000000000000000', 0, u), -ERANGE);
  const b = { val: false };
  for (const y of ['y', 'Y', '1', 'on', 'true']) { b.val = false; t.equal(kstrtobool(y, b), 0); t.equal(b.val, true, y); }
  for (const n of ['n', 'N', '0', 'off', 'false']) { b.val = true; t.equal(kstrtobool(n, b), 0); t.equal(b.val, false, n); }
  t.equal(kstrtobool('perhaps', b), -EINVAL);
  t.equal(kstrtobool('o', b), -EINVAL);
  t.same(simple_strtoull('0x1fzz', 0), { val: 31n, end: 4 }, 'simple_strtoull stops at the first non-digit');
  t.same(simple_strtoull('zz', 0), { val: 0n, end: 0 });
  t.end();
});

t.test('memparse: K/M/G/T/P/E, hex, octal', (t) => {
  t.equal(memparse('4096'), 4096);
  t.equal(memparse('64M'), 64 * 2 ** 20);
  t.equal(memparse('64m'), 64 * 2 ** 20);
  t.equal(memparse('2G'), 2 ** 31);
  t.equal(memparse('1T'), 2 ** 40);
  t.equal(memparse('0x1000K'), 0x1000 * 1024);
  t.equal(memparse('010'), 8, 'leading 0 is octal, as simple_strtoull base 0');
  t.equal(memparse('0'), 0);
  t.equal(memparse('12Q'), null);
  t.equal(memparse('M'), null);
  t.equal(memparse('16E'), null, 'beyond 2^53 is refused');
  t.end();
});

t.test('known parameters reach their owners', (t) => {
  t.same(parse('mem=64M loglevel=3 mktme=off mktme.noflush mktme_storekeys'), []);
  t.equal(e820__mem_limit(), 64 * 2 ** 20);
  t.equal(get_console_loglevel(), 3);
  t.equal(mktme_noflush(), true);
  t.equal(param_get('mktme.noflush'), 'Y', 'as /sys/module/mktme/parameters/noflush shows it');
  t.same(init_args(), { argv: [], envp: [] }, 'mktme_storekeys (__setup) and mktme= (early) are taken');
  parse('quiet'); t.equal(get_console_loglevel(), 4);
  parse('quiet loglevel=7'); t.equal(get_console_loglevel(), 7, 'last one wins');
  parse('loglevel=7 quiet'); t.equal(get_console_loglevel(), 4);
  parse('debug'); t.equal(get_console_loglevel(), 10);
  parse('mktme.noflush=0'); t.equal(mktme_noflush(), false);
  parse('mktme.noflush=y'); t.equal(mktme_noflush(), true);
  parse(''); t.equal(mktme_noflush(), false, 'every parse starts from the defaults');
  t.equal(e820__mem_limit(), null);
  set_console_loglevel(7);
  t.end();
});

t.test('malformed values are reported and ignored', (t) => {
  const lines = parse('mem=lots mem=0 mem loglevel=high mktme=maybe mktme.noflush=perhaps mem=32M');
  t.same(lines, [
    "Malformed early option 'mem'",
    "Malformed early option 'mem'",
    "Malformed early option 'mem'",
    "Malformed early option 'loglevel'",
    "Malformed early option 'mktme'",
    "Booting kernel: `perhaps' invalid for parameter `mktme.noflush'",
  ]);
  t.equal(e820__mem_limit(), 32 * 2 ** 20, 'the good one counts');
  t.equal(mktme_noflush(), false);
  t.same(init_args(), { argv: [], envp: [] }, 'malformed known parameters do not go to init');
  t.end();
});

t.test('unknown parameters: argv words first, then NAME=VALUE; dotted names; after "--"', (t) => {
  const lines = parse('foo x=1 bar.baz=2 qux "y=a b" mktme.keyid_reserv=3 -- init-arg z=3 mem=1');
  t.same(lines, [
    "mktme: unknown parameter 'keyid_reserv' ignored",
    'Unknown kernel command line parameters "foo qux x=1 y=a b", will be passed to user space.',
  ], 'an unknown name of a known module is a misspelling; bar.baz (no such module) is dropped silently');
  t.same(init_args(), { argv: ['foo', 'qux', 'init-arg', 'z=3', 'mem=1'], envp: ['x=1', 'y=a b'] },
    'after "--" everything goes to init, even a known name');
  t.equal(e820__mem_limit(), null, 'mem=1 after "--" is not parsed');
  t.end();
});

t.test('a parameter registered next to its code: early_param, module_param with a value', (t) => {
  let seen: (string | null)[] = [];
  early_param('hyg_test_early', (v) => { seen.push(v); return v === 'bad' ? -EINVAL : 0; }, () => { seen = []; });
  const reserve = module_param('hyg_test', 'reserve', param_ops_uint, 0);
  const flag = module_param('hyg_test', 'flag', param_ops_bool, true);
  t.same(parse('hyg_test_early hyg_test_early=1 hyg_test.reserve=0x10 hyg_test.flag=n'), []);
  t.same(seen, [null, '1']);
  t.equal(reserve.value, 16);
  t.equal(flag.value, false);
  t.same(parse('hyg_test_early=bad hyg_test.reserve=-1 hyg_test.reserve hyg_test.reserve=4294967296'), [
    "Malformed early option 'hyg_test_early'",
    "Booting kernel: `-1' invalid for parameter `hyg_test.reserve'",
    "Booting kernel: `' invalid for parameter `hyg_test.reserve'",
    "Booting kernel: `4294967296' invalid for parameter `hyg_test.reserve'",
  ]);
  t.equal(reserve.value, 0, 'back to its default, then every bad value refused');
  t.equal(flag.value, true);
  t.throws(() => module_param('hyg_test', 'flag', param_ops_bool, true), /registered twice/);
  t.end();
});

t.test('boot: unknown parameters, log level and the first messages', (t) => {
  const { log, console } = bootKernel({ cmdline: 'foo bar=1 loglevel=6 baz.qux mem=lots' });
  t.match(log[0], /^Linux version 6\.8\.0-mktme /);
  t.equal(log[1], 'Command line: foo bar=1 loglevel=6 baz.qux mem=lots');
  t.equal(log[2], "Malformed early option 'mem'");
  t.same(log.slice(3, 7), ['x86/tme: enabled by BIOS', 'x86/mktme: enabled by BIOS', 'x86/mktme: 63 KeyIDs available',
    'BIOS-provided physical RAM map:'], 'early_cpu_init (detect_tme) before the e820 print, as setup_arch runs them');
  t.ok(log.includes('Unknown kernel command line parameters "foo bar=1", will be passed to user space.'));
  t.equal(get_console_loglevel(), 6);
  t.ok(console.every((l) => !/ x86\/tme: enabled by BIOS/.test(l)), 'KERN_INFO (6) hidden at loglevel 6');
  t.ok(console.some((l) => /Unknown kernel command line parameters/.test(l)), 'KERN_NOTICE (5) shown');
  t.equal(vfs_read('/proc/cmdline'), 'foo bar=1 loglevel=6 baz.qux mem=lots\n');
  t.end();
});

t.test('boot: quiet hides everything below KERN_WARNING', (t) => {
  const { console, log } = bootKernel({ cmdline: 'quiet' });
  t.same(console, []);
  t.ok(log.length > 10, 'the log itself is complete');
  t.end();
});

t.test('boot: no unknown parameters, no message', (t) => {
  const { log } = bootKernel({ cmdline: 'quiet mktme=on' });
  t.notOk(log.some((l) => /Unknown kernel command line/.test(l)));
  t.equal(vfs_read('/proc/cmdline'), 'quiet mktme=on\n');
  t.end();
});

t.test('boot: mem= reaches memblock; mktme.noflush reaches mm', (t) => {
  const full = bootKernel({ cmdline: '' }).log.find((l) => l.startsWith('Memory: '))!;
  const { log } = bootKernel({ cmdline: 'mem=64M mktme.noflush' });
  const small = log.find((l) => l.startsWith('Memory: '))!;
  const total = (s: string): number => Number(/\/(\d+)K available/.exec(s)![1]);
  t.ok(total(small) < 64 * 1024, `mem=64M limits memory (${small})`);
  t.ok(total(full) > 200 * 1024, 'without it all 256M are there');
  t.ok(log.includes('x86/mktme: noflush: KeyID changes will not flush caches; stale aliases WILL corrupt memory'));
  t.equal(mktme_noflush(), true);
  bootKernel({ cmdline: '' });
  t.equal(mktme_noflush(), false, 'reset on the next boot');
  t.end();
});
