/**
 * lat_mem_rd: lmbench's memory read latency benchmark (lmbench3 src/lat_mem_rd.c) as a
 * user process of the emulated machine. For each stride, a chain of pointers through
 * ranges of 512 bytes up to SIZE (lmbench's step(): doubling to 1 KiB, then +1 KiB to
 * 4 KiB, then a quarter of the enclosing power of two), each element `stride` bytes after
 * the last and the last pointing back to the first (`-t`: a random cycle through the
 * range instead, as lmbench's thrash_initialize defeats prefetchers). The chain is
 * walked with dependent 8-byte user loads (p = *p) once to warm up and once timed; the
 * latency is virtual nanoseconds per load (the TSC: arch/x86/hw/timing.ts).
 *
 * Output, as lmbench prints it on stderr: `"stride=N`, then one "MB ns" line per range
 * ("%.5f %.3f"), then a blank line. SIZE is in megabytes as lmbench takes it (0.5 is
 * allowed) or with a K/M suffix; STRIDE in bytes (default 64, lmbench's 512/sizeof(char *)).
 * This tree's extension: `-k SERIAL` puts the memory under that mktme key.
 */
import type { Command } from '../registry.js';
import { UsageError } from '../registry.js';
import type { KernelShellContext } from '../context.js';
import { getopt } from '../context.js';
import { parseSize } from '../lib/parse.js';
import { parse_serial, rdtsc, seconds, uload, ustore, with_arena, type Arena } from '../lib/workload.js';

const LOWER = 512;
const DEFAULT_STRIDE = 64;
const MAX_LEN = 256 * 1024 * 1024;
/** At least this many timed loads per range (small ranges are walked several times). */
const MIN_LOADS = 1000;

/** lmbench's step(): the next range size. */
export function step(k: number): number {
  if (k < 1024) return k * 2;
  if (k < 4 * 1024) return k + 1024;
  let s = 4 * 1024;
  while (s <= k) s *= 2;
  return k + s / 4;
}

function parseLen(s: string): number {
  if (/^[0-9]*\.?[0-9]+$/.test(s)) return Math.floor(Number(s) * 1024 * 1024);
  const r = parseSize(s);
  if (!r.ok) throw new UsageError(`SIZE: ${r.error}`);
  return r.value;
}

/** A deterministic user-space PRNG for -t (the program's own, not the machine's). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0);
}

const ptr = new Uint8Array(8);
const ptrView = new DataView(ptr.buffer);

/** Store the chain through `n` elements `stride` apart (order: a permutation of 0..n-1). */
function buildChain(ar: Arena, stride: number, order: Uint32Array): void {
  const n = order.length;
  for (let i = 0; i < n; i++) {
    ptrView.setFloat64(0, ar.va + order[(i + 1) % n] * stride, true);
    ustore(ar, order[i] * stride, ptr);
  }
}

/** Follow the chain `loads` times from element 0's address; returns where it stopped. */
function chase(ar: Arena, start: number, loads: number): number {
  let p = start;
  for (let i = 0; i < loads; i++) {
    const v = uload(ar, p - ar.va, 8);
    p = new DataView(v.buffer).getFloat64(0, true);
  }
  return p;
}

export const latMemRdCommand: Command<KernelShellContext> = {
  name: 'lat_mem_rd',
  usage: 'lat_mem_rd [-t] [-k SERIAL] SIZE [STRIDE...]',
  summary: "lmbench's memory read latency table, as a user process, in virtual time",
  help: 'SIZE: megabytes (0.5, 8) or with a suffix (64K); STRIDE: bytes (default 64).\n' +
    '-t: a random chain (defeats the stream prefetcher). -k: memory under this mktme key.\n' +
    'Prints to stderr, as lmbench does.',
  run(ctx, args, io) {
    const o = getopt(args, 'tk:');
    let random = false;
    let serial: number | null = null;
    for (const [letter, arg] of o.opts) {
      if (letter === 't') random = true;
      else serial = parse_serial(arg!);
    }
    if (o.rest.length < 1) throw new UsageError('missing SIZE');
    const len = parseLen(o.rest[0]);
    if (len < LOWER || len > MAX_LEN) throw new UsageError(`SIZE must be ${LOWER} bytes..256M, not '${o.rest[0]}'`);
    const strides = o.rest.slice(1).map((s) => {
      const r = parseSize(s);
      if (!r.ok || r.value < 8 || r.value % 8 || r.value > len) throw new UsageError(`STRIDE must be a multiple of 8 in 8..SIZE, not '${s}'`);
      return r.value;
    });
    if (strides.length === 0) strides.push(DEFAULT_STRIDE);
    with_arena(ctx, len, serial, (ar) => {
      for (const stride of strides) {
        let text = `"stride=${stride}\n`;
        for (let range = LOWER; range <= len; range = step(range)) {
          const n = Math.floor(range / stride);
          if (n < 2) continue;
          const order = Uint32Array.from({ length: n }, (_, i) => i);
          if (random) {
            const rnd = lcg(range ^ stride);
            for (let i = n - 1; i > 1; i--) { const j = 1 + (rnd() % i); [order[i], order[j]] = [order[j], order[i]]; }
          }
          buildChain(ar, stride, order);
          const start = ar.va + order[0] * stride;
          const p = chase(ar, start, n); // warm up: one lap
          const loads = Math.max(n, MIN_LOADS);
          const t0 = rdtsc(ctx);
          chase(ar, p, loads);
          const ns = (seconds(rdtsc(ctx) - t0) * 1e9) / loads;
          text += `${(range / (1024 * 1024)).toFixed(5)} ${ns.toFixed(3)}\n`;
        }
        io.err(text + '\n');
      }
    });
    return 0;
  },
};
