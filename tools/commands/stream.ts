/**
 * stream: John McCalpin's STREAM benchmark (stream.c, revision 5.10,
 * https://www.cs.virginia.edu/stream/FTP/Code/stream.c) as a user process of the emulated
 * machine: three arrays of N doubles in the shell's process, the four kernels
 *   Copy  c = a      Scale  b = q*c      Add  c = a+b      Triad  a = b+q*c   (q = 3)
 * run NTIMES = 10 times each, the first iteration excluded from the statistics, the
 * results validated as stream.c's checkSTREAMresults does, and stream.c's report.
 * Times are virtual (the TSC: arch/x86/hw/timing.ts), so "MB/s" is the emulated
 * machine's bandwidth, not the host's.
 *
 * The loops move 4 KiB of each array per user-mode access (a vectorised loop's traffic,
 * line for line). This tree's extension: `-k SERIAL` puts the arrays under that mktme
 * key (encrypt_mprotect), to compare KeyIDs.
 */
import type { Command } from '../registry.js';
import { CommandError, UsageError } from '../registry.js';
import type { KernelShellContext } from '../context.js';
import { getopt } from '../context.js';
import { parse_serial, rdtsc, seconds, uload, ustore, with_arena, type Arena } from '../lib/workload.js';
import { parseSize } from '../lib/parse.js';

const NTIMES = 10;
const SCALAR = 3.0;
const DEFAULT_N = 262_144; // 2 MiB per array: 4x the two packages' 256 KiB caches, as stream.c asks
const MAX_N = 16 * 1024 * 1024;
const CHUNK = 512; // doubles per access (4 KiB)
const BAR = '-------------------------------------------------------------\n';
const LABELS = ['Copy:      ', 'Scale:     ', 'Add:       ', 'Triad:     '];

/** One kernel over all N elements: dst[j] = f(x[j], y[j]) in chunks. */
function kernel(ar: Arena, n: number, dst: number, x: number, y: number | null,
  f: (x: number, y: number) => number): void {
  for (let j = 0; j < n; j += CHUNK) {
    const m = Math.min(CHUNK, n - j);
    const xs = new Float64Array(uload(ar, (x * n + j) * 8, m * 8).buffer);
    const ys = y === null ? xs : new Float64Array(uload(ar, (y * n + j) * 8, m * 8).buffer);
    const out = new Float64Array(m);
    for (let i = 0; i < m; i++) out[i] = f(xs[i], ys[i]);
    ustore(ar, (dst * n + j) * 8, new Uint8Array(out.buffer));
  }
}

function fill(ar: Arena, n: number, which: number, v: number): void {
  const chunk = new Float64Array(CHUNK).fill(v);
  for (let j = 0; j < n; j += CHUNK) {
    const m = Math.min(CHUNK, n - j);
    ustore(ar, (which * n + j) * 8, new Uint8Array(chunk.buffer, 0, m * 8));
  }
}

function avgError(ar: Arena, n: number, which: number, expect: number): number {
  let sum = 0;
  for (let j = 0; j < n; j += CHUNK) {
    const m = Math.min(CHUNK, n - j);
    const xs = new Float64Array(uload(ar, (which * n + j) * 8, m * 8).buffer);
    for (let i = 0; i < m; i++) sum += Math.abs(xs[i] - expect);
  }
  return sum / n;
}

const f6 = (x: number): string => x.toFixed(6).padStart(11);

export const streamCommand: Command<KernelShellContext> = {
  name: 'stream',
  usage: 'stream [-n ELEMENTS] [-k SERIAL]',
  summary: "McCalpin's STREAM (Copy, Scale, Add, Triad) as a user process, in virtual time",
  help: `-n: array size in 8-byte elements (default ${DEFAULT_N}, at most ${MAX_N}; K/M suffixes).\n` +
    '-k: put the arrays under this mktme key (encrypt_mprotect). Times are the TSC\'s.',
  run(ctx, args, io) {
    const o = getopt(args, 'n:k:');
    if (o.rest.length) throw new UsageError(`unexpected '${o.rest[0]}'`);
    let n = DEFAULT_N;
    let serial: number | null = null;
    for (const [letter, arg] of o.opts) {
      if (letter === 'k') serial = parse_serial(arg!);
      else {
        const r = parseSize(arg!);
        if (!r.ok || r.value < 1 || r.value > MAX_N) throw new UsageError(`-n: array size must be 1..${MAX_N} elements, not '${arg}'`);
        n = r.value;
      }
    }
    const bytesPer = 8;
    const report = with_arena(ctx, 3 * n * bytesPer, serial, (ar) => {
      const A = 0, B = 1, C = 2;
      fill(ar, n, A, 1.0); fill(ar, n, B, 2.0); fill(ar, n, C, 0.0);
      let t = rdtsc(ctx);
      kernel(ar, n, A, A, null, (x) => 2.0 * x);
      const quantum = Math.max(1, Math.round(seconds(rdtsc(ctx) - t) * 1e6));
      const times: number[][] = [[], [], [], []];
      for (let k = 0; k < NTIMES; k++) {
        t = rdtsc(ctx); kernel(ar, n, C, A, null, (x) => x); times[0].push(seconds(rdtsc(ctx) - t));
        t = rdtsc(ctx); kernel(ar, n, B, C, null, (x) => SCALAR * x); times[1].push(seconds(rdtsc(ctx) - t));
        t = rdtsc(ctx); kernel(ar, n, C, A, B, (x, y) => x + y); times[2].push(seconds(rdtsc(ctx) - t));
        t = rdtsc(ctx); kernel(ar, n, A, B, C, (x, y) => x + SCALAR * y); times[3].push(seconds(rdtsc(ctx) - t));
      }
      // checkSTREAMresults: the same recurrence on scalars.
      let aj = 1.0, bj = 2.0, cj = 0.0;
      aj = 2.0 * aj;
      for (let k = 0; k < NTIMES; k++) { cj = aj; bj = SCALAR * cj; cj = aj + bj; aj = bj + SCALAR * cj; }
      const errs = [avgError(ar, n, A, aj) / Math.abs(aj), avgError(ar, n, B, bj) / Math.abs(bj),
        avgError(ar, n, C, cj) / Math.abs(cj)];
      return { quantum, times, errs };
    });
    const mib = (x: number): string => (x / 1024 / 1024).toFixed(1);
    const gib = (x: number): string => (x / 1024 / 1024 / 1024).toFixed(1);
    let out = BAR + 'STREAM version $Revision: 5.10 $\n' + BAR;
    out += `This system uses ${bytesPer} bytes per array element.\n` + BAR;
    out += `Array size = ${n} (elements), Offset = 0 (elements)\n`;
    out += `Memory per array = ${mib(bytesPer * n)} MiB (= ${gib(bytesPer * n)} GiB).\n`;
    out += `Total memory required = ${mib(3 * bytesPer * n)} MiB (= ${gib(3 * bytesPer * n)} GiB).\n`;
    out += `Each kernel will be executed ${NTIMES} times.\n`;
    out += ' The *best* time for each kernel (excluding the first iteration)\n';
    out += ' will be used to compute the reported bandwidth.\n' + BAR;
    out += 'Your clock granularity/precision appears to be 1 microseconds.\n';
    out += `Each test below will take on the order of ${report.quantum} microseconds.\n`;
    out += `   (= ${report.quantum} clock ticks)\n`;
    out += 'Increase the size of the arrays if this shows that\n';
    out += 'you are not getting at least 20 clock ticks per test.\n' + BAR;
    out += 'WARNING -- The above is only a rough guideline.\n';
    out += 'For best results, please be sure you know the\n';
    out += 'precision of your system timer.\n' + BAR;
    out += 'Function    Best Rate MB/s  Avg time     Min time     Max time\n';
    const bytes = [2, 2, 3, 3].map((w) => w * bytesPer * n);
    for (let j = 0; j < 4; j++) {
      const ts = report.times[j].slice(1);
      const min = Math.min(...ts), max = Math.max(...ts);
      const avg = ts.reduce((s, x) => s + x, 0) / ts.length;
      out += `${LABELS[j]}${(1e-6 * bytes[j] / min).toFixed(1).padStart(12)}  ${f6(avg)}  ${f6(min)}  ${f6(max)}\n`;
    }
    out += BAR;
    const epsilon = 1e-13;
    const bad = report.errs.map((e, i) => [e, i] as const).filter(([e]) => e > epsilon);
    if (bad.length === 0) {
      out += `Solution Validates: avg error less than ${epsilon.toExponential(6).replace(/e([+-])(\d)$/, 'e$10$2')} on all three arrays\n`;
    } else {
      for (const [e, i] of bad) {
        out += `Failed Validation on array ${'abc'[i]}[], AvgRelAbsErr > epsilon (${epsilon.toExponential(6)})\n`;
        out += `     Expected Value: ${e}\n`;
      }
    }
    out += BAR;
    io.out(out);
    if (bad.length) throw new CommandError('validation failed');
    return 0;
  },
};
