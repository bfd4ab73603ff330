/**
 * detect_tme() at boot, for each BIOS/CPU configuration: the exact x86/tme and
 * x86/mktme messages in order (Linux 2018-2024 strings), x86_phys_bits on every CPU,
 * the "tme" capability, and what mm was told (KeyID count, shift, algorithms). Plus the
 * cases no BIOS setting of this machine reaches (an unknown policy), through a stub CPU.
 */
import t from 'tap';
import { setup_boot_params } from '../../kernel/params.js';
import { X86_FEATURE_TME } from '../../arch/x86/include/asm/cpufeatures.js';
import { set_cpu_possible } from '../../arch/x86/include/asm/processor.js';
import { cpu_common_init, cpu_data, cpu_has, type cpuinfo_x86 } from '../../arch/x86/kernel/cpu/common.js';
import {
  detect_tme, get_mktme_status, MKTME_DISABLED, MKTME_ENABLED, tme_init,
} from '../../arch/x86/kernel/cpu/intel.js';
import { online_cpus } from '../../arch/x86/kernel/smpboot.js';
import { mktme_algs, mktme_mm_init, mktme_keyid_shift, mktme_nr_keyids } from '../../arch/x86/mm/mktme.js';
import type { X86Cpu } from '../../arch/x86/hw/isa.js';
import { log_records, printk_init } from '../../kernel/printk.js';
import { bootKernel, tmeLines } from '../lib/boot.js';

const ENABLED = ['x86/tme: enabled by BIOS', 'x86/mktme: enabled by BIOS', 'x86/mktme: 63 KeyIDs available'];

function physBits(): number[] { return online_cpus().map((c) => cpu_data(c).x86_phys_bits); }
function tmeFlags(): boolean[] { return online_cpus().map((c) => cpu_has(cpu_data(c), X86_FEATURE_TME)); }

t.test('default BIOS: TME and MKTME with 6 KeyID bits', (t) => {
  bootKernel();
  t.same(tmeLines(), ENABLED);
  t.same(physBits(), [40, 40, 40, 40], 'MAXPHYADDR 46 minus 6 KeyID bits on every CPU');
  t.same(tmeFlags(), [true, true, true, true]);
  t.equal(mktme_nr_keyids(), 63);
  t.equal(mktme_keyid_shift(), 40, 'shift = phys bits before the reduction - keyid bits');
  t.equal(mktme_algs(), 0b101, 'AES-XTS-128 and AES-XTS-256');
  t.equal(get_mktme_status(), MKTME_ENABLED);
  t.end();
});

t.test('BIOS locks TME off', (t) => {
  bootKernel({ bios: { tme: false } });
  t.same(tmeLines(), ['x86/tme: not enabled by BIOS'], 'printed once for all four CPUs');
  t.same(physBits(), [46, 46, 46, 46]);
  t.same(tmeFlags(), [false, false, false, false], 'tme cleared (2024 behaviour)');
  t.equal(mktme_nr_keyids(), 0);
  t.equal(get_mktme_status(), MKTME_DISABLED);
  t.end();
});

t.test('BIOS leaves IA32_TME_ACTIVATE unlocked', (t) => {
  bootKernel({ bios: { lock: false } });
  t.same(tmeLines(), ['x86/tme: not enabled by BIOS']);
  t.same(tmeFlags(), [false, false, false, false]);
  t.equal(mktme_nr_keyids(), 0);
  t.end();
});

t.test('KeyID bits 0: TME on, MKTME off', (t) => {
  bootKernel({ bios: { keyIdBits: 0 } });
  t.same(tmeLines(), ['x86/tme: enabled by BIOS', 'x86/mktme: disabled by BIOS']);
  t.same(physBits(), [46, 46, 46, 46]);
  t.same(tmeFlags(), [true, true, true, true]);
  t.equal(mktme_nr_keyids(), 0);
  t.end();
});

t.test('KeyID bits 3 on a 6-bit CPU', (t) => {
  bootKernel({ bios: { keyIdBits: 3 } });
  t.same(tmeLines(), ['x86/tme: enabled by BIOS', 'x86/mktme: enabled by BIOS', 'x86/mktme: 7 KeyIDs available']);
  t.same(physBits(), [43, 43, 43, 43]);
  t.equal(mktme_nr_keyids(), 7);
  t.equal(mktme_keyid_shift(), 43);
  t.end();
});

t.test('D1: TME policy AES-XTS-256: Linux warns "Unknown policy", TME and MKTME stay on', (t) => {
  bootKernel({ bios: { policy: 'aes-xts-256' } });
  t.same(tmeLines(), ['x86/tme: enabled by BIOS', 'x86/tme: Unknown policy is active: 0x2',
    'x86/mktme: enabled by BIOS', 'x86/mktme: 63 KeyIDs available']);
  t.equal(mktme_nr_keyids(), 63);
  t.end();
});

t.test('D1: only AES-XTS-256 allowed: "No known encryption algorithm", MKTME off', (t) => {
  bootKernel({ bios: { algs: ['aes-xts-256'] } });
  t.same(tmeLines(), ['x86/tme: enabled by BIOS', 'x86/mktme: No known encryption algorithm is supported: 0x4',
    'x86/mktme: enabled by BIOS', 'x86/mktme: 63 KeyIDs available']);
  t.equal(mktme_nr_keyids(), 0, 'MKTME_DISABLED: no KeyIDs for the key service');
  t.end();
});

t.test("this tree's mktme_aes_xts_256 boot option: AES-XTS-256 known to detect_tme", (t) => {
  bootKernel({ bios: { policy: 'aes-xts-256' }, cmdline: 'mktme_aes_xts_256' });
  t.same(tmeLines(), ENABLED, 'no "Unknown policy"');
  bootKernel({ bios: { algs: ['aes-xts-256'] }, cmdline: 'mktme_aes_xts_256=1' });
  t.same(tmeLines(), ENABLED);
  t.equal(mktme_algs(), 0b100);
  t.equal(mktme_nr_keyids(), 63);
  bootKernel({ bios: { algs: ['aes-xts-256'] }, cmdline: 'mktme_aes_xts_256=n' });
  t.equal(mktme_nr_keyids(), 0, '=n: Linux behaviour');
  t.end();
});

t.test('no algorithm allowed: MKTME not usable, bits still taken', (t) => {
  bootKernel({ bios: { algs: [] } });
  t.same(tmeLines(), [
    'x86/tme: enabled by BIOS',
    'x86/mktme: No known encryption algorithm is supported: 0',
    'x86/mktme: enabled by BIOS',
    'x86/mktme: 63 KeyIDs available',
  ]);
  t.same(physBits(), [40, 40, 40, 40], 'the KeyID bits are claimed in hardware regardless');
  t.equal(mktme_nr_keyids(), 0);
  t.equal(get_mktme_status(), MKTME_DISABLED);
  t.end();
});

t.test('packages programmed inconsistently: an AP disables MKTME', (t) => {
  const { log } = bootKernel({ bios: { inconsistent: true } });
  t.same(tmeLines(), [
    ...ENABLED,
    'x86/tme: configuration is inconsistent between CPUs',
    'x86/tme: MKTME is not usable',
  ], 'the once-only lines are not repeated for package 1');
  t.same(physBits(), [40, 40, 41, 41], 'package 1 has 5 KeyID bits');
  t.equal(mktme_nr_keyids(), 0, 'mm was told to disable MKTME');
  t.equal(get_mktme_status(), MKTME_DISABLED);
  t.ok(log.indexOf('x86/tme: MKTME is not usable') > log.indexOf('smp: Bringing up secondary CPUs ...'),
    'found while bringing up APs');
  t.end();
});

t.test('inconsistent with KeyID bits 0 on package 0', (t) => {
  bootKernel({ bios: { inconsistent: true, keyIdBits: 0 } });
  t.same(tmeLines(), [
    'x86/tme: enabled by BIOS',
    'x86/mktme: disabled by BIOS',
    'x86/tme: configuration is inconsistent between CPUs',
    'x86/tme: MKTME is not usable',
    'x86/mktme: enabled by BIOS',
    'x86/mktme: 1 KeyIDs available',
  ], 'Linux prints the once-only KeyID lines the first time each call site runs');
  t.same(physBits(), [46, 46, 45, 45]);
  t.equal(mktme_nr_keyids(), 0);
  t.end();
});

t.test('CPU without TME: no detection at all', (t) => {
  const { machine } = bootKernel({ cpu: { tme: false } });
  t.same(tmeLines(), []);
  t.same(physBits(), [46, 46, 46, 46]);
  t.same(tmeFlags(), [false, false, false, false]);
  t.equal(mktme_nr_keyids(), 0);
  t.match(machine.biosWarnings[0], /TME requested but not supported/);
  t.end();
});

t.test('CPU without PCONFIG: detection unchanged', (t) => {
  bootKernel({ cpu: { pconfig: false } });
  t.same(tmeLines(), ENABLED);
  t.equal(mktme_nr_keyids(), 63);
  t.end();
});

t.test('mktme=off: hardware reported, MKTME left off', (t) => {
  bootKernel({ cmdline: 'mktme=off' });
  t.same(tmeLines(), [...ENABLED, 'x86/mktme: disabled by kernel command line']);
  t.same(physBits(), [40, 40, 40, 40]);
  t.equal(mktme_nr_keyids(), 0);
  t.end();
});

t.test('once-only messages come back on the next boot', (t) => {
  bootKernel({ bios: { tme: false } });
  t.same(tmeLines(), ['x86/tme: not enabled by BIOS']);
  bootKernel({ bios: { tme: false } });
  t.same(tmeLines(), ['x86/tme: not enabled by BIOS']);
  bootKernel();
  t.same(tmeLines(), ENABLED);
  t.end();
});

t.test('single package, single CPU', (t) => {
  bootKernel({ packages: 1, cpusPerPackage: 1 });
  t.same(tmeLines(), ENABLED);
  t.same(physBits(), [40]);
  t.end();
});

// --- values no BIOS of this machine writes: a stub CPU that only answers RDMSR ----------

function stubCpu(activate: bigint): X86Cpu {
  return new Proxy({} as X86Cpu, {
    get(_target, prop) {
      if (prop === 'rdmsr') return (msr: number) => { if (msr === 0x982) return activate; throw new Error('msr'); };
      if (prop === 'rdtsc') return () => 0;
      if (prop === 'index') return 0;
      return () => { throw new Error(`stub CPU: ${String(prop)} not modelled`); };
    },
  });
}

function detectOn(activates: bigint[]): { lines: string[]; bits: number[] } {
  set_cpu_possible(activates.map(stubCpu));
  printk_init(null);
  setup_boot_params('');
  mktme_mm_init();
  tme_init();
  cpu_common_init(null);
  const bits: number[] = [];
  for (const a of activates) {
    set_cpu_possible([stubCpu(a)]);
    const c = { x86_phys_bits: 46, x86_capability: new Uint32Array(21) } as unknown as cpuinfo_x86;
    detect_tme(c);
    bits.push(c.x86_phys_bits);
  }
  return { lines: log_records().map((r) => r.text), bits };
}

const LOCKED_ON = 0b11n;

t.test('unknown TME policy (1: AES-XTS-128 with integrity) is reported', (t) => {
  const r = detectOn([LOCKED_ON | (1n << 4n) | (6n << 32n) | (1n << 48n)]);
  t.same(r.lines, ['x86/tme: enabled by BIOS', 'x86/tme: Unknown policy is active: 0x1', ...ENABLED.slice(1)]);
  t.same(r.bits, [40]);
  t.equal(mktme_nr_keyids(), 63);
  t.end();
});

t.test('only unknown algorithms (AES-XTS-128 with integrity) allowed', (t) => {
  const r = detectOn([LOCKED_ON | (6n << 32n) | (0x2n << 48n)]);
  t.same(r.lines, ['x86/tme: enabled by BIOS', 'x86/mktme: No known encryption algorithm is supported: 0x2',
    ...ENABLED.slice(1)]);
  t.equal(mktme_nr_keyids(), 0);
  t.end();
});

t.test('enabled but not locked is "not enabled by BIOS"', (t) => {
  const r = detectOn([0b10n | (6n << 32n) | (1n << 48n)]);
  t.same(r.lines, ['x86/tme: not enabled by BIOS']);
  t.same(r.bits, [46], 'nothing subtracted');
  t.end();
});

t.test('inconsistent third CPU after two consistent ones', (t) => {
  const on = LOCKED_ON | (6n << 32n) | (1n << 48n);
  const r = detectOn([on, on, on | (1n << 31n)]);
  t.same(r.lines, [...ENABLED, 'x86/tme: configuration is inconsistent between CPUs', 'x86/tme: MKTME is not usable']);
  t.same(r.bits, [40, 40, 40]);
  t.equal(mktme_nr_keyids(), 0);
  t.end();
});
