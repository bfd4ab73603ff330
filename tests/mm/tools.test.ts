/**
 * The shell's memory tools: devmem (reads and writes through a KeyID's direct
 * mapping, refusals) and memmap (runs by KeyID, plain and coloured).
 */
import t from 'tap';
import { devmemCommand } from '../../tools/commands/devmem.js';
import { memmapCommand } from '../../tools/commands/memmap.js';
import { bufferIo } from '../../tools/lib/io.js';
import { Registry, Shell } from '../../tools/registry.js';
import { GFP_KERNEL, __GFP_ZERO, __free_pages, alloc_pages } from '../../mm/page_alloc.js';
import { bootKernel, directKeys, programKey } from '../lib/boot.js';
import { addrTweak, xtsEncrypt } from '../../arch/x86/hw/crypto/xts-ref.js';
import { clflush_cache_range } from '../../arch/x86/include/asm/processor.js';
import { page_address } from '../../arch/x86/include/asm/page.js';
import { formatHexdump } from '../../tools/lib/parse.js';

function sh(argv: string[], tty = false): { out: string; err: string; status: number } {
  const io = bufferIo(tty);
  const shell = new Shell(new Registry<unknown>([devmemCommand, memmapCommand]), { pid: 1 }, io.io);
  const status = shell.runCommand(argv);
  return { out: io.stdout, err: io.stderr, status };
}

t.test('devmem through KeyIDs', (t) => {
  // TME bypass: KeyID 0 is plaintext, so its alias shows exactly what the DIMM holds.
  const b = bootKernel({ bios: { bypass: true } });
  programKey(b, 3, 33);
  const pfn = alloc_pages(GFP_KERNEL | __GFP_ZERO, 0, 3, 1);
  const addr = '0x' + (pfn * 4096).toString(16);
  let r = sh(['devmem', '-w', '-k', '3', addr, '48656c6c6f2c204b65794944203321']);
  t.equal(r.status, 0, r.err);
  t.equal(r.out, `wrote 15 bytes at ${addr} through KeyID 3\n`);
  r = sh(['devmem', '-k', '3', addr, '16']);
  t.equal(r.status, 0);
  t.equal(r.out, `${(pfn * 4096).toString(16).padStart(16, '0')}  48 65 6c 6c 6f 2c 20 4b  65 79 49 44 20 33 21 00  |Hello, KeyID 3!.|\n`);
  clflush_cache_range(page_address(pfn), 4096); // KeyID 3's dirty line to the DIMM
  r = sh(['devmem', addr, '16']);
  t.equal(r.status, 0);
  const line = new Uint8Array(64);
  line.set(new TextEncoder().encode('Hello, KeyID 3!'));
  const [k1, k2] = directKeys(33);
  const ct = xtsEncrypt(k1, k2, addrTweak(pfn * 4096), line);
  t.equal(r.out, formatHexdump(pfn * 4096, ct.subarray(0, 16)), 'KeyID 0 sees the ciphertext under KeyID 3\'s key');
  r = sh(['devmem', addr]);
  t.equal(r.out.split('\n').length - 1, 4, 'default: 64 bytes');
  __free_pages(pfn, 0);
  t.end();
});

t.test('devmem refusals', (t) => {
  bootKernel();
  const cases: [string[], RegExp, number][] = [
    [['devmem', '0x40000000'], /^devmem: 0x40000000: not in the direct mapping/, 1],
    [['devmem', '-k', '64', '0x100000'], /^devmem: KeyID 64 has no direct mapping \(KeyIDs 0\.\.63\)/, 1],
    [['devmem', '-k', 'x', '0x100000'], /^devmem: bad KeyID/, 1],
    [['devmem', 'zz'], /^devmem: bad address/, 1],
    [['devmem', '0xffffff0', '64'], /not in the direct mapping/, 1],
    [['devmem'], /usage: devmem/, 2],
    [['devmem', '-w', '0x100000'], /usage: devmem/, 2],
    [['devmem', '-w', '0x100000', 'abc'], /even number of digits/, 2],
    [['devmem', '0x100000', '1M'], /LEN must be/, 2],
    [['devmem', '-q', '0'], /unknown option/, 2],
  ];
  for (const [argv, re, status] of cases) {
    const r = sh(argv);
    t.equal(r.status, status, argv.join(' '));
    t.match(r.err, re, argv.join(' '));
    t.equal(r.out, '');
  }
  t.end();
});

t.test('devmem with MKTME off', (t) => {
  bootKernel({ bios: { keyIdBits: 0 } });
  const r = sh(['devmem', '-k', '1', '0x100000']);
  t.equal(r.status, 1);
  t.match(r.err, /MKTME is off/);
  t.end();
});

t.test('memmap', (t) => {
  bootKernel();
  const a = alloc_pages(GFP_KERNEL, 4, 0, 1);
  const b = alloc_pages(GFP_KERNEL, 4, 5, 1);
  const c = alloc_pages(GFP_KERNEL, 4, 63, 1);
  let r = sh(['memmap']);
  t.equal(r.status, 0, r.err);
  const lines = r.out.split('\n');
  t.match(lines[0], /^physical memory 0x0-0x104000000: \d+ pages in \d+ runs$/);
  t.match(lines[1], /^#\.#0\.#\.05\/\._%$/,
    'cells: reserved, free, kernel, init\'s page (KeyID 0), free, the swiotlb pool, free, KeyIDs 0 5 63, free, hole, NVRAM');
  const hex = (pfn: number): string => (pfn * 4096).toString(16).padStart(16, '0');
  t.match(r.out, new RegExp(`  5 ${hex(b)}-[0-9a-f]{16}        16 pages  KeyID 5\n`));
  t.match(r.out, new RegExp(`  / ${hex(c)}-[0-9a-f]{16}        16 pages  KeyID 63\n`));
  t.match(r.out, /  _ 0000000010000000-00000000ffffffff    983040 pages  hole\n/);
  t.match(r.out, /  % 0000000100000000-0000000103ffffff     16384 pages  persistent memory\n/);
  t.match(lines[lines.length - 2], /^legend: \. free  # reserved  _ hole  % persistent memory  0 KeyID 0  5 KeyID 5  \/ KeyID 63$/);
  t.notMatch(r.out, /\x1b\[/, 'no colour when not a terminal'); // absence is the point
  r = sh(['memmap'], true);
  t.match(r.out, /\x1b\[48;5;\d+m/, 'colour on a terminal');
  t.equal(sh(['memmap', 'x']).status, 2);
  for (const [p, o] of [[a, 4], [b, 4], [c, 4]]) __free_pages(p, o);
  t.end();
});
