/**
 * Benchmark section "fuzz": shell operations per second of the fuzz harness
 * (tools/fuzz), in-process, seed 1, about 6 seconds of cases: boots, checks against
 * the reference model and the teardown checks included, as `make fuzz` runs them.
 *
 *   fuzz_ops_s   operations per second (goal >= 2000)
 */
import { fuzz } from '../tools/fuzz/main.js';
import { prepareVms } from '../tools/fuzz/harness.js';
import type { Goals } from './types.js';

export const goals: Goals = {
  fuzz_ops_s: { min: 2000 },
};

export async function run(): Promise<Record<string, number>> {
  await prepareVms(); // as make fuzz: valid cases create the occasional VM
  const s = fuzz(1, 6);
  if (s.failures.length) console.error(`fuzz: ${s.failures.length} failure(s) during the benchmark:\n${s.failures.join('\n')}`);
  return { fuzz_ops_s: Math.round(s.ops / s.seconds) };
}
