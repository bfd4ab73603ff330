/**
 * Benchmark section "boottime": power-on to shell prompt, the way `make run` does it
 * (the shell's own boot path: build the Machine, BIOS, start_kernel, late initcalls,
 * init), each in a fresh Node process so the JIT starts cold as it does for a user.
 *
 *   boot_16g_ms      2 nodes x 8 GiB (median of 3 processes)
 *   boot_default_ms  the default machine, 2 x 128 MiB (median of 3 processes)
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import type { Goals } from './types.js';

export const goals: Goals = {
  boot_16g_ms: { max: 1000 },
};

function once(argv: string[]): number {
  const here = import.meta.dirname;
  const opts = path.resolve(here, '../tools/options.js');
  const ctx = path.resolve(here, '../tools/context.js');
  const io = path.resolve(here, '../tools/lib/io.js');
  const script = `
    const { parseOptions } = await import(${JSON.stringify(opts)});
    const { bootKernelShell, shutdownKernelShell } = await import(${JSON.stringify(ctx)});
    const { bufferIo } = await import(${JSON.stringify(io)});
    const r = parseOptions(${JSON.stringify(['-c', 'true', ...argv])}, false);
    if (r.kind !== 'run') throw new Error('options');
    const t0 = performance.now();
    const c = bootKernelShell(r.options, bufferIo().io);
    const ms = performance.now() - t0;
    shutdownKernelShell(c);
    process.stdout.write(String(ms));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  return Number(out.trim());
}

function median3(argv: string[]): number {
  const s = [once(argv), once(argv), once(argv)].sort((a, b) => a - b);
  return Math.round(s[1] * 10) / 10;
}

export async function run(): Promise<Record<string, number>> {
  return {
    boot_16g_ms: median3(['--mem', '8G']),
    boot_default_ms: median3([]),
  };
}
