/**
 * CPU identification and /proc/cpuinfo: Linux's x86 layout, the tme/pconfig flags as
 * enumerated (and tme cleared when the BIOS left TME off), address sizes after the
 * KeyID bits, topology (physical id, core id, siblings), the SMP bring-up messages,
 * and the procfs basics around it (/proc listing, errors).
 */
import t from 'tap';
import { cpu_data, x86_family, x86_model, x86_stepping } from '../../arch/x86/kernel/cpu/common.js';
import { package_lead_cpus, topology_physical_package_id } from '../../arch/x86/kernel/smpboot.js';
import {
  proc_create, proc_mkdir, proc_register_dir, proc_remove, vfs_read, vfs_readdir,
} from '../../fs/proc/generic.js';
import { bootKernel } from '../lib/boot.js';

function cpuinfo(): string {
  const r = vfs_read('/proc/cpuinfo');
  if (typeof r !== 'string') throw new Error(`read failed: ${r}`);
  return r;
}

function field(block: string, name: string): string {
  const m = new RegExp(`^${name}\\t*: ?(.*)$`, 'm').exec(block);
  if (!m) throw new Error(`no ${name}`);
  return m[1];
}

function blocks(): string[] {
  return cpuinfo().split('\n\n').filter((b) => b !== '');
}

t.test('signature decoding (SDM CPUID leaf 1 EAX)', (t) => {
  t.equal(x86_family(0x000606a6), 6);
  t.equal(x86_model(0x000606a6), 0x6a);
  t.equal(x86_stepping(0x000606a6), 6);
  t.equal(x86_family(0x00a50f00), 0xf + 0xa, 'extended family added for family 0xf');
  t.equal(x86_model(0x00a50f00), 0x50, 'extended model used for family >= 6');
  t.equal(x86_model(0x00050510), 1, 'no extended model below family 6');
  t.end();
});

t.test('default machine: four CPUs, Linux layout', (t) => {
  bootKernel();
  const text = cpuinfo();
  const b = blocks();
  t.equal(b.length, 4);
  t.ok(text.endsWith('power management:\n\n'), 'a blank line after every CPU');
  t.equal(b[0].split('\n')[0], 'processor\t: 0');
  t.equal(field(b[0], 'vendor_id'), 'GenuineIntel');
  t.equal(field(b[0], 'cpu family'), '6');
  t.equal(field(b[0], 'model'), '106');
  t.equal(field(b[0], 'model name'), 'Intel(R) Xeon(R) CPU (emulated MKTME) @ 2.00GHz');
  t.equal(field(b[0], 'stepping'), '6');
  t.equal(field(b[0], 'clflush size'), '64');
  t.equal(field(b[0], 'cache_alignment'), '64');
  t.equal(field(b[0], 'address sizes'), '40 bits physical, 48 bits virtual');
  t.same(b.map((x) => field(x, 'physical id')), ['0', '0', '1', '1']);
  t.same(b.map((x) => field(x, 'core id')), ['0', '1', '0', '1']);
  t.same(b.map((x) => field(x, 'apicid')), ['0', '1', '2', '3']);
  t.same(b.map((x) => field(x, 'siblings')), ['2', '2', '2', '2']);
  t.same(b.map((x) => field(x, 'cpu cores')), ['2', '2', '2', '2']);
  const flags = field(b[0], 'flags').split(' ');
  for (const f of ['fpu', 'tsc', 'msr', 'pae', 'clflush', 'nx', 'lm', 'constant_tsc', 'x2apic', 'smep', 'clflushopt', 'tme', 'pconfig']) {
    t.ok(flags.includes(f), `flag ${f}`);
  }
  t.ok(flags.indexOf('fpu') < flags.indexOf('nx') && flags.indexOf('nx') < flags.indexOf('tme')
    && flags.indexOf('tme') < flags.indexOf('pconfig'), 'flags in feature-number order');
  t.match(b[0], /^fpu\t\t: yes$/m);
  t.match(b[0], /^cpuid level\t: 27$/m);
  t.match(b[0], /^bogomips\t: 4000\.00$/m);
  t.match(b[0], /^cpu MHz\t\t: 2000\.000$/m);
  t.same(package_lead_cpus(), [{ pkg: 0, cpu: 0 }, { pkg: 1, cpu: 2 }]);
  t.equal(topology_physical_package_id(3), 1);
  t.end();
});

t.test('SMP bring-up messages', (t) => {
  const { log } = bootKernel({ packages: 2, cpusPerPackage: 3 });
  const from = log.indexOf('smp: Bringing up secondary CPUs ...');
  t.same(log.slice(from, from + 6), [
    'smp: Bringing up secondary CPUs ...',
    'smpboot: x86: Booting SMP configuration:',
    '.... node  #0, CPUs:      #1 #2',
    '.... node  #1, CPUs:   #3 #4 #5',
    'smp: Brought up 2 nodes, 6 CPUs',
    'smpboot: Total of 6 processors activated (24000.00 BogoMIPS)',
  ]);
  t.ok(log.includes('smpboot: CPU0: Intel(R) Xeon(R) CPU (emulated MKTME) @ 2.00GHz (family: 0x6, model: 0x6a, stepping: 0x6)'));
  t.same(blocks().map((x) => field(x, 'apicid')), ['0', '1', '2', '4', '5', '6'], 'x2APIC ids leave a gap per package');
  t.same(blocks().map((x) => field(x, 'core id')), ['0', '1', '2', '0', '1', '2']);
  t.end();
});

t.test('one CPU: singular words', (t) => {
  const { log } = bootKernel({ packages: 1, cpusPerPackage: 1 });
  t.ok(log.includes('smp: Brought up 1 node, 1 CPU'));
  t.notOk(log.includes('smpboot: x86: Booting SMP configuration:'));
  t.end();
});

t.test('BIOS leaves TME off: no tme flag, all physical bits', (t) => {
  bootKernel({ bios: { tme: false } });
  for (const b of blocks()) {
    const flags = field(b, 'flags').split(' ');
    t.notOk(flags.includes('tme'));
    t.ok(flags.includes('pconfig'));
    t.equal(field(b, 'address sizes'), '46 bits physical, 48 bits virtual');
  }
  t.end();
});

t.test('CPU without PCONFIG or TME', (t) => {
  bootKernel({ cpu: { pconfig: false } });
  t.notOk(field(blocks()[0], 'flags').split(' ').includes('pconfig'));
  t.ok(field(blocks()[0], 'flags').split(' ').includes('tme'));
  bootKernel({ cpu: { tme: false, maxPhysAddr: 39 }, nvramSize: 0 });
  t.notOk(field(blocks()[0], 'flags').split(' ').includes('tme'));
  t.equal(field(blocks()[0], 'address sizes'), '39 bits physical, 48 bits virtual');
  t.end();
});

t.test('inconsistent packages: address sizes per CPU', (t) => {
  bootKernel({ bios: { inconsistent: true } });
  t.same(blocks().map((b) => field(b, 'address sizes')), [
    '40 bits physical, 48 bits virtual', '40 bits physical, 48 bits virtual',
    '41 bits physical, 48 bits virtual', '41 bits physical, 48 bits virtual',
  ]);
  t.equal(cpu_data(2).x86_phys_bits, 41);
  t.end();
});

t.test('procfs: files, directories, providers, errors', (t) => {
  bootKernel();
  t.same(vfs_readdir('/'), ['proc', 'sys']);
  const own = (): string[] => (vfs_readdir('/proc') as string[]).filter((n) => !OTHERS.includes(n));
  // Entries other subsystems (mm, processes) add at boot are not this test's business.
  const OTHERS = (vfs_readdir('/proc') as string[]).filter((n) => !['cmdline', 'cpuinfo', 'version'].includes(n));
  t.same(own(), ['cmdline', 'cpuinfo', 'version']);
  t.equal(vfs_read('/proc'), -21, 'EISDIR');
  t.equal(vfs_read('/proc/nope'), -2, 'ENOENT');
  t.equal(vfs_read('/proc/cpuinfo/x'), -20, 'ENOTDIR');
  t.equal(vfs_readdir('/proc/cpuinfo'), -20);
  t.equal(vfs_readdir('/nope'), -2);
  t.equal(vfs_read('proc/../proc//cmdline'), '\n', 'relative paths, dot-dot and double slashes');
  t.match(vfs_read('/proc/version') as string, /^Linux version 6\.8\.0-mktme/);

  proc_create('/sys/kernel/mm/mktme/nr_keyids', () => '63\n');
  proc_mkdir('/sys/kernel/mm/empty');
  t.ok((vfs_readdir('/sys/kernel/mm') as string[]).includes('empty'));
  t.same(vfs_readdir('/sys/kernel/mm/empty'), []);
  t.equal(vfs_read('/sys/kernel/mm/mktme/nr_keyids'), '63\n');
  proc_create('/proc/fails', () => -13);
  t.equal(vfs_read('/proc/fails'), -13, 'a show may return -errno');
  proc_create('/proc/throws', () => { throw new Error('bug'); });
  t.equal(vfs_read('/proc/throws'), -5, 'a throwing show is -EIO, not a crash');

  const pids = ['6', '7'];
  proc_register_dir('/proc', {
    list: () => pids.flatMap((p) => [`${p}/status`, `${p}/maps`]),
    lookup: (rest) => {
      const m = /^(\d+)\/(status|maps)$/.exec(rest);
      return m && pids.includes(m[1]) ? () => `${m[2]} of ${m[1]}\n` : null;
    },
  });
  t.same(own(), ['6', '7', 'cmdline', 'cpuinfo', 'fails', 'throws', 'version']);
  t.same(vfs_readdir('/proc/7'), ['maps', 'status']);
  t.equal(vfs_read('/proc/7/status'), 'status of 7\n');
  t.equal(vfs_read('/proc/7'), -21);
  t.equal(vfs_read('/proc/8/status'), -2);
  proc_remove('/proc/fails');
  t.equal(vfs_read('/proc/fails'), -2);
  t.throws(() => proc_create('relative', () => ''), 'a relative path is a programming error');

  bootKernel();
  t.same(own(), ['cmdline', 'cpuinfo', 'version'], 'a new boot starts without the old entries');
  t.end();
});
