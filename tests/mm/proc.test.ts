/**
 * The files mm exports: /proc/meminfo, /proc/iomem, /proc/buddyinfo in Linux's
 * formats, and /sys/kernel/mm/mktme/{nr_keyids,keyid_pages}.
 */
import t from 'tap';
import { proc_reset, vfs_read } from '../../fs/proc/generic.js';
import { GFP_KERNEL, MAX_ORDER, __free_pages, alloc_pages, nr_free_pages, totalram_pages } from '../../mm/page_alloc.js';
import { bootKernel, pagesInUse, type BootOptions } from '../lib/boot.js';

/** Boot with an empty procfs: mem_init registers the files. */
function boot(opts: BootOptions = {}): void {
  proc_reset();
  bootKernel(opts);
}

function read(path: string): string {
  const r = vfs_read(path);
  if (typeof r !== 'string') throw new Error(`${path}: ${r}`);
  return r;
}

function meminfo(): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of read('/proc/meminfo').trimEnd().split('\n')) {
    const [, k, v] = /^([^:]+):\s+(\d+)/.exec(l)!;
    m.set(k, Number(v));
  }
  return m;
}

t.test('/proc/meminfo', (t) => {
  boot();
  const text = read('/proc/meminfo');
  const lines = text.trimEnd().split('\n');
  t.same(lines.slice(0, 5).map((l) => l.split(':')[0]), ['MemTotal', 'MemFree', 'MemAvailable', 'Buffers', 'Cached']);
  for (const l of lines) {
    if (/^(HugePages_|HardwareCorrupted)/.test(l)) continue;
    t.match(l, /^[A-Za-z0-9_()]+:\s+\d+ kB$/, l);
    // A value wider than 8 digits (VmallocTotal) widens the line, as %8lu does.
    if (!l.startsWith('VmallocTotal:')) t.equal(l.length, 16 + 8 + 3, `"%8lu kB" after a 16-column label: ${l}`);
  }
  let m = meminfo();
  t.equal(m.get('MemTotal'), totalram_pages() * 4);
  t.equal(m.get('MemFree'), nr_free_pages() * 4);
  t.equal(m.get('DirectMap2M'), 320 * 1024, 'KeyID 0 maps 256 MiB RAM + 64 MiB NVRAM');
  t.equal(m.get('DirectMap1G'), 0);
  const held = pagesInUse();
  const p = alloc_pages(GFP_KERNEL, MAX_ORDER);
  m = meminfo();
  t.equal(m.get('MemFree'), nr_free_pages() * 4);
  t.equal(m.get('MemTotal')! - m.get('MemFree')!, 4096 + held * 4, '4 MiB allocated besides what boot holds');
  __free_pages(p, MAX_ORDER);
  t.end();
});

t.test('/proc/iomem', (t) => {
  boot();
  t.equal(read('/proc/iomem'), [
    '00000000-000fffff : Reserved',
    '00100000-07ffffff : System RAM',
    '  01000000-011fffff : Kernel code',
    '  01200000-012fffff : Kernel rodata',
    '  01300000-0137ffff : Kernel data',
    '  01380000-013fffff : Kernel bss',
    '08000000-0fffffff : System RAM',
    'c0000000-febfffff : PCI Bus 0000:00',
    '  e0000000-efffffff : PCI ECAM 0000 [bus 00-ff]',
    '  fe000000-fe000fff : 0000:00:03.0',
    'fed90000-fed90fff : dmar0',
    '100000000-103ffffff : Persistent Memory',
    '',
  ].join('\n'));
  boot({ cmdline: 'mem=0x9000000' });
  t.match(read('/proc/iomem'), /\n08000000-08ffffff : System RAM\nc0000000-febfffff : PCI Bus 0000:00\n(?:  .*\n)*fed90000-fed90fff : dmar0\n100000000-103ffffff : Persistent Memory\n$/, 'after mem=');
  t.end();
});

t.test('/proc/buddyinfo', (t) => {
  boot();
  const lines = read('/proc/buddyinfo').split('\n');
  t.equal(lines.length, 4, "node 0's DMA and DMA32, node 1's DMA32, and a final newline");
  t.match(lines[0], /^Node 0, zone      DMA (\s+\d+ ){11}$/);
  t.match(lines[1], /^Node 0, zone    DMA32 (\s+\d+ ){11}$/);
  t.equal(lines[2], 'Node 1, zone    DMA32      0      0      0      0      0      0      0      0      0      0     32 ');
  const p = alloc_pages(GFP_KERNEL, 0, 0, 1);
  t.equal(read('/proc/buddyinfo').split('\n')[2],
    'Node 1, zone    DMA32      1      1      1      1      1      1      1      1      1      1     31 ');
  __free_pages(p, 0);
  t.end();
});

t.test('/sys/kernel/mm/mktme', (t) => {
  boot();
  t.equal(read('/sys/kernel/mm/mktme/nr_keyids'), '63\n');
  t.equal(read('/sys/kernel/mm/mktme/keyid_pages'), '');
  const a = alloc_pages(GFP_KERNEL, 1, 5);
  const b = alloc_pages(GFP_KERNEL, 0, 2);
  t.equal(read('/sys/kernel/mm/mktme/keyid_pages'), '2 1\n5 2\n');
  __free_pages(a, 1);
  t.equal(read('/sys/kernel/mm/mktme/keyid_pages'), '2 1\n');
  __free_pages(b, 0);
  boot({ bios: { keyIdBits: 0 } });
  t.equal(read('/sys/kernel/mm/mktme/nr_keyids'), '0\n', 'TME without MKTME');
  t.end();
});
