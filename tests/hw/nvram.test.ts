/**
 * NVRAM: encrypted like DRAM (TME covers it too), persistent across power cycles and,
 * with a host file, across processes. Under the volatile platform key its contents are
 * lost at the next boot; under a software key (PCONFIG SET_KEY_DIRECT) they read back once
 * the same key is programmed again — the spec's reason for software-provided keys.
 */
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ALG_128, CMD_DIRECT, alias, bytes, lineDecrypt, machine, platformKey, programAll } from './helpers.js';
import type { Machine } from '../../arch/x86/hw/machine.js';

const SECRET = bytes('persistent secret 0123456789abcdef');
const K1 = new Uint8Array(16).map((_, i) => 0x10 + i);
const K2 = new Uint8Array(16).map((_, i) => 0x80 + i);

function nvramBase(m: Machine): number { return m.map.find((r) => r.kind === 'nvram')!.base; }

function store(m: Machine, pa: number, data: Uint8Array): void {
  m.cpus[0].write(pa, data);
  for (let o = 0; o < data.length; o += 64) m.cpus[0].clflush(pa + o);
}

function load(m: Machine, pa: number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  m.cpus[0].read(pa, b);
  return b;
}

t.test('NVRAM is encrypted by TME like DRAM', (t) => {
  const m = machine();
  const base = nvramBase(m);
  t.ok(base >= 2 ** 32, 'above 4 GiB');
  store(m, base + 0x1000, SECRET);
  t.notOk(m.probe.scan(base, 0x4000, SECRET), 'ciphertext on the NVDIMM');
  t.end();
});

t.test('under a software key NVRAM reads back after a power cycle, once the key is reprogrammed', (t) => {
  const m = machine();
  const pa = alias(m, nvramBase(m) + 0x2000, 5);
  t.same(programAll(m, 5, CMD_DIRECT, ALG_128, K1, K2), [0, 0]);
  store(m, pa, SECRET);
  m.powerCycle();
  const line = nvramBase(m) + 0x2000;
  const dimm = m.probe.read(line, 64)!;
  t.same(load(m, pa, SECRET.length), lineDecrypt(platformKey(m, 0, 1), line, dimm).subarray(0, SECRET.length),
    'after power-on KeyID 5 is the new TME key: garbage');
  t.same(programAll(m, 5, CMD_DIRECT, ALG_128, K1, K2), [0, 0]);
  m.caches.loseAll(); // drop the garbage line the previous read cached
  t.same(load(m, pa, SECRET.length), SECRET, 'the same key again: the data is back');
  t.end();
});

t.test('under the platform key NVRAM is lost at the next boot', (t) => {
  const m = machine();
  const pa = nvramBase(m) + 0x3000;
  store(m, pa, SECRET);
  m.powerCycle();
  const dimm = m.probe.read(pa, 64)!;
  t.same(load(m, pa, SECRET.length), lineDecrypt(platformKey(m, 0, 1), pa, dimm).subarray(0, SECRET.length),
    'the old ciphertext under the new platform key');
  t.end();
});

t.test('an NVRAM host file keeps the contents across processes', (t) => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mktme-nv-')), 'nvram.img');
  const a = machine({ nvramFile: file, seed: 11 });
  const pa = alias(a, nvramBase(a) + 0x4000, 7);
  programAll(a, 7, CMD_DIRECT, ALG_128, K1, K2);
  store(a, pa, SECRET);
  const raw = a.probe.read(nvramBase(a) + 0x4000, 64)!;
  a.close();
  // A new machine (as a new process would build) on the same file, another seed.
  const b = machine({ nvramFile: file, seed: 12 });
  t.same(b.probe.read(nvramBase(b) + 0x4000, 64), raw, 'the raw bytes came from the file');
  programAll(b, 7, CMD_DIRECT, ALG_128, K1, K2);
  t.same(load(b, alias(b, nvramBase(b) + 0x4000, 7), SECRET.length), SECRET, 'and decrypt under the same key');
  b.close();
  fs.rmSync(path.dirname(file), { recursive: true });
  t.end();
});
