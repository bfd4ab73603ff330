/**
 * Benchmark section "boottime": power-on to shell prompt, the way `make run` does it
 * (the shell's own boot path: build the Machine, BIOS, start_kernel, late initcalls,
 * init), each in a fresh Node process so the JIT starts cold as it does for a user.
 *
 *   boot_16g_ms      2 nodes x 8 GiB (median of 3 processes)
 *   boot_default_ms  the default machine, 2 x 128 MiB (median of 3 processes)
 */
import { freshBoot } from './freshboot.js';
import type { Goals } from './types.js';

export const goals: Goals = {
  boot_16g_ms: { max: 1000 },
};

function once(argv: string[]): number { return freshBoot(argv).ms; }

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
