/**
 * The kernel command line: splitting (quotes), the known parameters and their
 * malformed forms, unknown parameters (Linux's message, argv before envp, dotted names
 * dropped, words after "--"), and their effect on a boot (log level, mem=, mktme.*,
 * /proc/cmdline, the order of the first boot messages).
 */
import t from 'tap';
import { mktme_noflush } from '../../arch/x86/mm/mktme.js';
import { vfs_read } from '../../fs/proc/generic.js';
import { boot_params_parsed, memparse, parse_cmdline, split_cmdline } from '../../kernel/params.js';
import { get_console_loglevel } from '../../kernel/printk.js';
import { bootKernel } from './helpers.js';

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

t.test('known parameters', (t) => {
  const r = parse_cmdline('mem=64M loglevel=3 mktme=off mktme.noflush mktme_storekeys');
  t.same(r.unknown, []);
  t.same(r.warnings, []);
  t.equal(r.params.mem_limit, 64 * 2 ** 20);
  t.equal(r.params.console_loglevel, 3);
  t.equal(r.params.mktme_off, true);
  t.equal(r.params.mktme_noflush, true);
  t.equal(r.params.mktme_storekeys, true);
  t.equal(parse_cmdline('quiet').params.console_loglevel, 4);
  t.equal(parse_cmdline('quiet loglevel=7').params.console_loglevel, 7, 'last one wins');
  t.equal(parse_cmdline('loglevel=7 quiet').params.console_loglevel, 4);
  t.equal(parse_cmdline('debug').params.console_loglevel, 10);
  t.equal(parse_cmdline('mktme=off mktme=on').params.mktme_off, false);
  t.equal(parse_cmdline('mktme.noflush=0').params.mktme_noflush, false);
  t.equal(parse_cmdline('mktme.noflush=y').params.mktme_noflush, true);
  t.end();
});

t.test('malformed values are reported and ignored', (t) => {
  const r = parse_cmdline('mem=lots mem=0 mem loglevel=high mktme=maybe mktme.noflush=perhaps');
  t.same(r.warnings, [
    "Malformed early option 'mem'",
    "Malformed early option 'mem'",
    "Malformed early option 'mem'",
    "Malformed early option 'loglevel'",
    "Malformed early option 'mktme'",
    "Booting kernel: `perhaps' invalid for parameter `mktme.noflush'",
  ]);
  t.equal(r.params.mem_limit, null);
  t.equal(r.params.console_loglevel, null);
  t.equal(r.params.mktme_off, false);
  t.same(r.unknown, []);
  t.end();
});

t.test('unknown parameters: argv words first, then NAME=VALUE; dotted names dropped', (t) => {
  const r = parse_cmdline('foo x=1 bar.baz=2 qux "y=a b" -- init-arg z=3');
  t.same(r.unknown, ['foo', 'qux', 'x=1', 'y=a b']);
  t.same(r.params.init_argv, ['foo', 'qux', 'init-arg', 'z=3'], 'after "--" everything goes to init');
  t.same(r.params.init_envp, ['x=1', 'y=a b']);
  t.end();
});

t.test('boot: unknown parameters, log level and the first messages', (t) => {
  const { log, console } = bootKernel({}, 'foo bar=1 loglevel=6 baz.qux mem=lots');
  t.match(log[0], /^Linux version 6\.8\.0-mktme /);
  t.equal(log[1], 'Command line: foo bar=1 loglevel=6 baz.qux mem=lots');
  t.equal(log[2], "Malformed early option 'mem'");
  t.equal(log[3], 'BIOS-provided physical RAM map:');
  t.ok(log.includes('Unknown kernel command line parameters "foo bar=1", will be passed to user space.'));
  t.equal(get_console_loglevel(), 6);
  t.ok(console.every((l) => !/ x86\/tme: enabled by BIOS/.test(l)), 'KERN_INFO (6) hidden at loglevel 6');
  t.ok(console.some((l) => /Unknown kernel command line parameters/.test(l)), 'KERN_NOTICE (5) shown');
  t.equal(vfs_read('/proc/cmdline'), 'foo bar=1 loglevel=6 baz.qux mem=lots\n');
  t.end();
});

t.test('boot: quiet hides everything below KERN_WARNING', (t) => {
  const { console, log } = bootKernel({}, 'quiet');
  t.same(console, []);
  t.ok(log.length > 10, 'the log itself is complete');
  t.end();
});

t.test('boot: no unknown parameters, no message', (t) => {
  const { log } = bootKernel({}, 'quiet mktme=on');
  t.notOk(log.some((l) => /Unknown kernel command line/.test(l)));
  t.equal(vfs_read('/proc/cmdline'), 'quiet mktme=on\n');
  t.end();
});

t.test('boot: mem= reaches memblock; mktme.noflush reaches mm', (t) => {
  const full = bootKernel({}, '').log.find((l) => l.startsWith('Memory: '))!;
  const { log } = bootKernel({}, 'mem=64M mktme.noflush');
  const small = log.find((l) => l.startsWith('Memory: '))!;
  const total = (s: string): number => Number(/\/(\d+)K available/.exec(s)![1]);
  t.ok(total(small) < 64 * 1024, `mem=64M limits memory (${small})`);
  t.ok(total(full) > 200 * 1024, 'without it all 256M are there');
  t.equal(boot_params_parsed().mem_limit, 64 * 2 ** 20);
  t.equal(mktme_noflush(), true);
  bootKernel({}, '');
  t.equal(mktme_noflush(), false, 'reset on the next boot');
  t.end();
});
