/**
 * Benchmark section "machine": host cost of the emulated box itself.
 *
 *   sparse_16g_rss_mb  resident memory of a fresh Node process after it builds a
 *                      16 GiB machine (2 nodes x 8 GiB) and touches nothing. DRAM is
 *                      sparse, so this should be Node's own footprint plus caches.
 *
 * Measured in a child process so that this run's other sections do not count.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import type { Goals } from './types.js';

export const goals: Goals = {
  sparse_16g_rss_mb: { max: 64 },
};

export async function run(): Promise<Record<string, number>> {
  const machineJs = path.resolve(import.meta.dirname, '../arch/x86/hw/machine.js');
  const configJs = path.resolve(import.meta.dirname, '../arch/x86/hw/config.js');
  const script = `
    const { Machine } = await import(${JSON.stringify(machineJs)});
    const { makeConfig, GiB } = await import(${JSON.stringify(configJs)});
    const m = new Machine(makeConfig({ memPerNode: 8 * GiB }));
    globalThis.gc?.();
    process.stdout.write(String(process.memoryUsage().rss) + ' ' + m.framesInUse());
  `;
  const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' });
  const [rss] = out.trim().split(' ').map(Number);
  return { sparse_16g_rss_mb: Math.round((rss / (1024 * 1024)) * 10) / 10 };
}
