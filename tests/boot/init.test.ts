/**
 * start_kernel's framework: late initcalls (order, once per boot, failures logged and
 * survived), a boot that cannot go on (KernelPanic with Linux's words, no host crash),
 * and restart/power-off preparation (WBINVD on each package, notifiers).
 */
import t from 'tap';
import { Machine } from '../../arch/x86/hw/machine.js';
import { makeConfig } from '../../arch/x86/hw/config.js';
import {
  get_system_state, kernel_power_off, kernel_restart, register_reboot_notifier, wbinvd_on_all_packages,
} from '../../arch/x86/kernel/reboot.js';
import { vfs_read } from '../../fs/proc/generic.js';
import { proc_create } from '../../fs/proc/generic.js';
import { boot_count, KernelPanic, late_initcall, start_kernel } from '../../init/main.js';
import { log_records } from '../../kernel/printk.js';
import { bootKernel } from '../lib/boot.js';

t.test('late initcalls run after procfs, every boot, in order', (t) => {
  const calls: string[] = [];
  const a = (): number => { calls.push('a'); proc_create('/proc/a', () => 'a\n'); return 0; };
  const b = (): number => { calls.push('b'); return -12; };
  const c = (): void => { calls.push('c'); throw new Error('oops'); };
  late_initcall(a);
  late_initcall(b);
  late_initcall(c, 'named_c');
  late_initcall(a);
  const before = boot_count();
  const { log } = bootKernel();
  t.same(calls, ['a', 'b', 'c'], 'registered twice, run once');
  t.equal(vfs_read('/proc/a'), 'a\n', 'procfs is up when they run');
  t.ok(log.includes('initcall b returned -12'));
  t.ok(log.includes('initcall named_c failed: oops'));
  t.equal(get_system_state(), 'running', 'a failing initcall does not stop the boot');
  bootKernel();
  t.same(calls, ['a', 'b', 'c', 'a', 'b', 'c']);
  t.equal(boot_count(), before + 2);
  t.end();
});

t.test('a boot that cannot go on panics cleanly', (t) => {
  const m = new Machine(makeConfig({}));
  const lines: string[] = [];
  let caught: unknown = null;
  try {
    start_kernel({ ...m.bootParams('loglevel=1'), e820: [] }, (l) => lines.push(l));
  } catch (e) {
    caught = e;
  }
  t.ok(caught instanceof KernelPanic, 'KernelPanic thrown');
  t.match((caught as Error).message, /^Kernel panic - not syncing: Fatal exception in boot: /);
  t.match(lines[lines.length - 1], /\] Kernel panic - not syncing: /, 'printed at KERN_EMERG even at loglevel 1');
  t.end();
});

t.test('restart and power off write every package back', (t) => {
  const { machine } = bootKernel();
  const seen: string[] = [];
  register_reboot_notifier((a) => seen.push(a));
  register_reboot_notifier(() => { throw new Error('bad notifier'); });
  const flushes = machine.counters.cacheWritebacks;
  t.equal(wbinvd_on_all_packages(), 2);
  kernel_restart();
  t.same(seen, ['restart']);
  t.equal(get_system_state(), 'restart');
  const texts = log_records().map((r) => r.text);
  t.ok(texts.includes('reboot: notifier failed: bad notifier'));
  t.equal(texts[texts.length - 1], 'reboot: Restarting system');
  t.ok(machine.counters.cacheWritebacks > flushes, 'dirty lines were written back');
  kernel_power_off();
  t.equal(log_records()[log_records().length - 1].text, 'reboot: Power down');
  bootKernel();
  kernel_restart();
  t.same(seen, ['restart', 'power_off'], 'notifiers are per boot');
  t.end();
});
