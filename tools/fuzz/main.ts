/**
 * make fuzz: run seeded fuzz cases for FUZZ_SECONDS (default 30) from FUZZ_SEED
 * (default 1), round-robin over the machine configurations, half valid sequences
 * checked against the model, half malformed commands; every tenth case is run twice
 * to check the same seed gives the same transcript. Prints ops/s and each failure with
 * a command line that replays it; exits 1 if anything failed.
 *
 *   make fuzz FUZZ_SECONDS=300 FUZZ_SEED=7
 */
import { pathToFileURL } from 'node:url';
import { CONFIGS, prepareVms, replayLine, runCase, shrink, type CaseSpec } from './harness.js';

export interface FuzzSummary {
  cases: number; ops: number; seconds: number;
  /** CPU seconds this process used (user + system): on loaded shared cores, wall time overstates the cost. */
  cpuSeconds: number;
  failures: string[];
}

/** The spec of case `i` of a campaign seeded with `seed`. */
export function caseSpec(seed: number, i: number, opsPerCase = 1000): CaseSpec {
  const s = (Math.imul(seed ^ 0x5bd1e995, 0x01000193) + Math.imul(i + 1, 0x9e3779b1)) >>> 0;
  return { seed: s % 1000000 + 1, config: CONFIGS[i % CONFIGS.length], kind: (i >> 0) % 2 ? 'malformed' : 'valid', ops: opsPerCase };
}

/** Run cases until `seconds` have passed (or `maxCases` ran); failures come shrunk. */
export function fuzz(seed: number, seconds: number, maxCases = Infinity, opsPerCase = 1000): FuzzSummary {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const failures: string[] = [];
  let ops = 0;
  let i = 0;
  for (; i < maxCases && (performance.now() - t0) / 1000 < seconds; i++) {
    const spec = caseSpec(seed, i, opsPerCase);
    const r = runCase(spec, null);
    ops += r.ops.length;
    let failure = r.failure;
    if (!failure && i % 10 === 0) {
      const again = runCase(spec, null);
      ops += again.ops.length;
      if (again.transcript !== r.transcript) failure = 'the same seed gave a different transcript';
    }
    if (!failure) continue;
    const modelFree = /^(bad output|host exception|the shell ended)/.test(failure);
    const minimal = failure === r.failure ? shrink(spec, r, modelFree) : r.ops;
    failures.push(`case ${i} (${spec.config.name}, ${spec.kind}, seed ${spec.seed}): ${failure}\n` +
      `  replay (${minimal.length} of ${r.ops.length} commands): ${replayLine(spec, minimal)}`);
  }
  const c = process.cpuUsage(c0);
  return { cases: i, ops, seconds: (performance.now() - t0) / 1000, cpuSeconds: (c.user + c.system) / 1e6, failures };
}

async function main(): Promise<void> {
  const seconds = Number(process.env.FUZZ_SECONDS ?? 30);
  const seed = Number(process.env.FUZZ_SEED ?? 1);
  if (!(seconds > 0) || !Number.isInteger(seed)) {
    process.stderr.write('fuzz: FUZZ_SECONDS must be > 0 and FUZZ_SEED an integer\n');
    process.exitCode = 2;
    return;
  }
  await prepareVms();
  const s = fuzz(seed, seconds);
  for (const f of s.failures) process.stdout.write(`FAIL ${f}\n`);
  process.stdout.write(`fuzz: seed ${seed}: ${s.cases} cases, ${s.ops} ops in ${s.seconds.toFixed(1)} s, ` +
    `${Math.round(s.ops / s.seconds)} ops/s (${Math.round(s.ops / s.cpuSeconds)} per CPU second), ` +
    `${s.failures.length} failure${s.failures.length === 1 ? '' : 's'}\n`);
  process.exitCode = s.failures.length ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
