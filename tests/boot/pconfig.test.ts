/**
 * PCONFIG from the kernel: target enumeration from CPUID leaf 1BH (Linux's subleaf
 * scan), mktme_key_program on each package's lead CPU (success, DEVICE_BUSY,
 * ENTROPY_ERROR, -ENXIO without PCONFIG, a #GP turned into -EINVAL and a log line),
 * and that no copy of a key is left in memory afterwards.
 */
import t from 'tap';
import { makeConfig } from '../../arch/x86/hw/config.js';
import { KEY_MODE_KEY, KEY_MODE_NO_ENCRYPT, KEY_MODE_TME } from '../../arch/x86/hw/engine.js';
import type { CpuidRegs, X86Cpu } from '../../arch/x86/hw/isa.js';
import { Machine } from '../../arch/x86/hw/machine.js';
import {
  MKTME_AES_XTS_128, MKTME_AES_XTS_256, MKTME_DEVICE_BUSY, MKTME_ENTROPY_ERROR, MKTME_KEYID_CLEAR_KEY,
  MKTME_KEYID_NO_ENCRYPT, MKTME_KEYID_SET_KEY_DIRECT, MKTME_KEYID_SET_KEY_RANDOM, MKTME_PROG_SUCCESS,
  MKTME_TARGET, mktme_key_program_alloc, type mktme_key_program as KeyProgram,
} from '../../arch/x86/include/asm/intel_pconfig.js';
import { set_cpu_possible, smp_call_function_single } from '../../arch/x86/include/asm/processor.js';
import { cpu_common_init, identify_cpu } from '../../arch/x86/kernel/cpu/common.js';
import { intel_pconfig_init, mktme_key_program, pconfig_target_supported } from '../../arch/x86/kernel/cpu/intel_pconfig.js';
import { package_lead_cpus, topology_physical_package_id } from '../../arch/x86/kernel/smpboot.js';
import { wbinvd_on_all_packages } from '../../arch/x86/kernel/reboot.js';
import { nr_free_pages } from '../../mm/page_alloc.js';
import { log_records, printk_init } from '../../kernel/printk.js';
import { bootKernel } from '../lib/boot.js';

const KEY1 = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
const KEY2 = Uint8Array.from({ length: 16 }, (_, i) => 0x50 + i);

function kprog(keyid: number, ctrl: number, k1?: Uint8Array, k2?: Uint8Array): KeyProgram {
  const p = mktme_key_program_alloc(keyid, ctrl);
  if (k1) p.key_field_1.set(k1);
  if (k2) p.key_field_2.set(k2);
  return p;
}

/** Run on every package's lead CPU; the results in package order. */
function onPackages(p: KeyProgram): number[] {
  return package_lead_cpus().map(({ cpu }) => smp_call_function_single(cpu, () => mktme_key_program(p)));
}

t.test('CPUID.1BH scan: targets of every target-id subleaf until the first invalid one', (t) => {
  const machine = new Machine(makeConfig({ packages: 1, cpusPerPackage: 1 }));
  const real = machine.cpus[0];
  // Subleaf 0: targets 1 and 9; 1: an unknown subleaf type (ignored); 2: target 5 and
  // an id >= 64 (ignored); 3: invalid, so 4 (target 7) is never read.
  const leaf1b: CpuidRegs[] = [
    { eax: 1, ebx: 1, ecx: 9, edx: 0 },
    { eax: 2, ebx: 3, ecx: 3, edx: 3 },
    { eax: 0x1001, ebx: 5, ecx: 64, edx: 0 },
    { eax: 0, ebx: 0, ecx: 0, edx: 0 },
    { eax: 1, ebx: 7, ecx: 0, edx: 0 },
  ];
  const stub = new Proxy(real, {
    get(target, prop) {
      if (prop === 'cpuid') {
        return (leaf: number, sub = 0) => (leaf === 0x1b ? { ...(leaf1b[sub] ?? leaf1b[3]) } : target.cpuid(leaf, sub));
      }
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as X86Cpu;
  set_cpu_possible([stub]);
  printk_init(null);
  cpu_common_init(null);
  identify_cpu();
  t.equal(intel_pconfig_init(), 0);
  t.same([1, 5, 9, 0].map(pconfig_target_supported), [true, true, true, true],
    'target ids 1, 9, 5 and the zero padding (Linux sets bit 0 too)');
  t.same([2, 3, 7, 64, -1].map(pconfig_target_supported), [false, false, false, false, false]);
  t.end();
});

t.test('booted machine: MKTME target supported; not without PCONFIG', (t) => {
  bootKernel();
  t.equal(pconfig_target_supported(MKTME_TARGET), true);
  bootKernel({ cpu: { pconfig: false } });
  t.equal(pconfig_target_supported(MKTME_TARGET), false);
  const p = kprog(1, MKTME_KEYID_SET_KEY_RANDOM | MKTME_AES_XTS_128);
  t.same(onPackages(p), [-6, -6], '-ENXIO: target not supported');
  t.end();
});

t.test('programming every package', (t) => {
  const { machine } = bootKernel();
  const engines = machine.packages.map((p) => p.engine);
  const free = nr_free_pages();
  t.same(onPackages(kprog(1, MKTME_KEYID_SET_KEY_DIRECT | MKTME_AES_XTS_128, KEY1, KEY2)), [0, 0]);
  t.same(engines.map((e) => e.keyMode(1)), [KEY_MODE_KEY, KEY_MODE_KEY]);
  t.same(onPackages(kprog(2, MKTME_KEYID_SET_KEY_RANDOM | MKTME_AES_XTS_256)), [0, 0]);
  t.same(onPackages(kprog(3, MKTME_KEYID_NO_ENCRYPT | MKTME_AES_XTS_128)), [0, 0]);
  t.same(engines.map((e) => e.keyMode(3)), [KEY_MODE_NO_ENCRYPT, KEY_MODE_NO_ENCRYPT]);
  t.same(onPackages(kprog(1, MKTME_KEYID_CLEAR_KEY | MKTME_AES_XTS_128)), [MKTME_PROG_SUCCESS, MKTME_PROG_SUCCESS]);
  t.same(engines.map((e) => e.keyMode(1)), [KEY_MODE_TME, KEY_MODE_TME]);
  t.equal(nr_free_pages(), free, 'the structure pages went back to the allocator');
  t.same(package_lead_cpus().map(({ cpu }) => topology_physical_package_id(cpu)), [0, 1]);
  t.equal(machine.counters.pconfigByResult.get(0), 8);
  t.end();
});

t.test('DEVICE_BUSY and ENTROPY_ERROR come back as status codes', (t) => {
  const { machine } = bootKernel();
  machine.packages[1].engine.injectBusy = 1;
  t.same(onPackages(kprog(4, MKTME_KEYID_SET_KEY_RANDOM | MKTME_AES_XTS_128)), [0, MKTME_DEVICE_BUSY]);
  t.same(onPackages(kprog(4, MKTME_KEYID_SET_KEY_RANDOM | MKTME_AES_XTS_128)), [0, 0], 'a retry succeeds');
  machine.packages[0].engine.injectEntropyError = 1;
  t.same(onPackages(kprog(5, MKTME_KEYID_SET_KEY_RANDOM | MKTME_AES_XTS_128)), [MKTME_ENTROPY_ERROR, 0]);
  t.end();
});

t.test('a #GP from PCONFIG is an error, a log line, not a crash', (t) => {
  const { machine } = bootKernel();
  const before = log_records().length;
  t.same(onPackages(kprog(0, MKTME_KEYID_CLEAR_KEY | MKTME_AES_XTS_128)), [-22, -22], 'KeyID 0: -EINVAL');
  t.same(onPackages(kprog(64, MKTME_KEYID_CLEAR_KEY | MKTME_AES_XTS_128)), [-22, -22], 'KeyID beyond the bits');
  t.same(onPackages(kprog(1, 7 | MKTME_AES_XTS_128)), [-22, -22], 'bad command');
  t.same(onPackages(kprog(1, MKTME_KEYID_CLEAR_KEY | (1 << 9))), [-22, -22], 'unknown algorithm');
  const lines = log_records().slice(before).map((r) => r.text);
  t.equal(lines.length, 8);
  t.equal(lines[0], 'x86/pconfig: MKTME_KEY_PROGRAM on CPU 0 raised #GP(0)');
  t.equal(lines[1], 'x86/pconfig: MKTME_KEY_PROGRAM on CPU 2 raised #GP(0)');
  t.equal(machine.counters.pconfigFaults, 8);
  t.same(onPackages({ keyid: 70000, keyid_ctrl: 0, key_field_1: new Uint8Array(64), key_field_2: new Uint8Array(64) }),
    [-22, -22], 'a malformed structure never reaches the instruction');
  t.same(onPackages({ keyid: 1, keyid_ctrl: 0, key_field_1: new Uint8Array(65), key_field_2: new Uint8Array(64) }),
    [-22, -22]);
  t.equal(machine.counters.pconfigFaults, 8);
  t.end();
});

t.test('pconfig_rev 1.3: bad KeyID is a status code', (t) => {
  bootKernel({ cpu: { pconfigRev: '1.3' } });
  t.same(onPackages(kprog(0, MKTME_KEYID_CLEAR_KEY | MKTME_AES_XTS_128)), [3, 3], 'MKTME_INVALID_KEYID');
  t.end();
});

t.test('no copy of the key is left in DRAM', (t) => {
  // KeyID 0 bypasses encryption, so DRAM holds plaintext of everything KeyID 0 writes.
  const { machine } = bootKernel({ bios: { bypass: true } });
  const p = kprog(1, MKTME_KEYID_SET_KEY_DIRECT | MKTME_AES_XTS_128, KEY1, KEY2);
  t.same(onPackages(p), [0, 0]);
  t.same([...p.key_field_1.subarray(0, 16)], [...KEY1], "the caller's structure is the caller's to wipe");
  wbinvd_on_all_packages();
  const dram = machine.map.filter((r) => r.kind === 'dram');
  for (const r of dram) {
    t.notOk(machine.probe.scan(r.base, r.size, KEY1), `data key not in DRAM [${r.base.toString(16)}]`);
    t.notOk(machine.probe.scan(r.base, r.size, KEY2), `tweak key not in DRAM [${r.base.toString(16)}]`);
  }
  t.end();
});
