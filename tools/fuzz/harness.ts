/**
 * The fuzz harness (make fuzz, tests/fuzz/slice.test.ts): seeded cases, each a fresh
 * machine in one of several configurations running a sequence of shell commands
 * in-process, checked after every step.
 *
 *  - "valid" cases: random but meaningful key, memory, process, S3 and reboot
 *    operations, direct disk I/O (blk write then blk read of the same sectors) and now
 *    and then a VM (create, a marker in a guest process, destroy: the host's free pages
 *    and keyid_pages as before), whose effect the reference model (model.ts) predicts: read-back bytes,
 *    RSS and the mapped pages of the current process, who the shell runs as; after
 *    `sync`, no plaintext marker of an encrypting KeyID in DRAM (and, as a control,
 *    markers under no-encrypt found); at the end everything is torn down and MemFree,
 *    buddyinfo, keyid_pages and every KeyID's state must equal their boot values.
 *  - "malformed" cases: random commands with hostile arguments.
 *  - always: no host exception, no internal error, no oops or BUG or panic, no key
 *    bytes of a type=user key in any output; and the same case run twice gives the
 *    same transcript.
 *
 * A failure is shrunk (ops removed one at a time while it still fails) and reported
 * with a command line that replays it in the real shell.
 */
import { bootKernelShell, type KernelShellContext } from '../context.js';
import '../shell.js'; // the shell's boot hook: a login shell under init after every boot
import { kernelFiles } from '../lib/kernel_files.js';
import { shellCommands } from '../commands/index.js';
import { parseOptions } from '../options.js';
import { Registry, Shell } from '../registry.js';
import { preloadImages } from '../vmm/kernel_image.js';
import { validCase } from './valid.js';
import {
  COMMON, Rng, malformed, type CaseResult, type CaseSpec,
} from './cases.js';

export { CONFIGS, replayLine, type CaseResult, type CaseSpec, type FuzzConfig } from './cases.js';

let vmImages = false;

/**
 * Load a guest kernel image (asynchronous, as module loading is) so the valid cases
 * can run `vm create`, which takes a loaded image synchronously and gives it back at
 * `vm destroy`. Without this the cases create no VMs.
 */
export async function prepareVms(): Promise<void> {
  await preloadImages(1);
  vmImages = true;
}

const BAD = /internal error|kernel BUG|Oops:|BUG: |general protection fault|Kernel panic|TypeError|RangeError|ReferenceError|\n\s+at /;

/** Boot a case's machine and run `ops`, or generate ops when `given` is null. */
export function runCase(spec: CaseSpec, given: string[][] | null): CaseResult {
  const rng = new Rng(spec.seed * 2654435761);
  const argv = ['--seed', String(spec.seed), ...COMMON, ...spec.config.args, '-c', ''];
  const parsed = parseOptions(argv, false);
  if (parsed.kind !== 'run') throw new Error(`fuzz: bad options ${argv.join(' ')}`);
  // stdout and stderr interleaved, as the transcript of the case
  const pieces: string[] = [];
  let pending: string[] = [];
  const io = { out(s: string): void { pending.push(s); }, err(s: string): void { pending.push(s); }, isTty: false };
  const ctx = bootKernelShell(parsed.options, io);
  // as the real shell: /proc, /sys and /dev are the kernel's, $$ the shell's process
  const shell: Shell<KernelShellContext> = new Shell(new Registry<KernelShellContext>(shellCommands), ctx, io, {
    debug: false, files: kernelFiles(() => shell.ctx), pid: () => shell.ctx.pid,
  });
  const ops: string[][] = [];
  const userKeys: string[] = [];
  let failure: string | null = null;
  let lastOut = '';
  const out = (): string => { const s = pending.join(''); pieces.push(s); pending = []; return s; };
  const fail = (m: string): void => { if (!failure) failure = m; };

  const run = (cmd: string[]): { out: string; status: number } => {
    ops.push(cmd);
    let status: number;
    try {
      status = shell.runCommand(cmd);
    } catch (e) {
      fail(`host exception: ${e instanceof Error ? e.stack : String(e)}`);
      status = -1;
    }
    const o = out();
    lastOut = o;
    if (BAD.test(o)) fail(`bad output from '${cmd.join(' ')}': ${o.slice(0, 400)}`);
    for (const k of userKeys) if (o.includes(k)) fail(`key bytes in the output of '${cmd.join(' ')}'`);
    if (shell.exited) fail(`the shell ended after '${cmd.join(' ')}'`);
    return { out: o, status };
  };

  // The model and the boot-time baseline, taken before the first op (for every case).
  const valid = validCase({ ctx, rng, spec, ops, vms: vmImages, userKeys, run, fail, failed: () => failure !== null });
  const n = given ? given.length : spec.ops;
  for (let i = 0; i < n && !failure; i++) {
    if (given) {
      const cmd = given[i];
      if (cmd[0] === 'keyctl' && cmd[3]?.includes('key=')) userKeys.push(...(/key=([0-9a-f]+)/.exec(cmd[3]) ?? []).slice(1));
      run(cmd); // a replay checks what needs no model: output, host exceptions, the shell
      continue;
    }
    if (spec.kind === 'malformed') run(malformed(rng));
    else valid.step();
  }
  if (!failure && spec.kind === 'valid' && !given) valid.teardown();
  ctx.machine?.close();
  return { ops, transcript: pieces.join('') + pending.join(''), failure, failedAt: ops.length, lastOut };
}

// --- shrinking -------------------------------------------------------------

/**
 * Remove ops one at a time while the case still fails (at most `budget` reruns).
 * A failure the replay can see by itself (bad output, a host exception, the shell
 * gone) must still happen; one found against the model must still give the same
 * wrong output at its last command, which is kept.
 */
export function shrink(spec: CaseSpec, r: CaseResult, modelFree: boolean, budget = 200, seconds = 20): string[][] {
  let cur = r.ops;
  const t0 = performance.now();
  const still = (cand: string[][]): boolean => {
    const x = runCase(spec, cand);
    return modelFree ? x.failure !== null : x.lastOut === r.lastOut;
  };
  for (let i = cur.length - (modelFree ? 1 : 2); i >= 0 && budget > 0 && performance.now() - t0 < seconds * 1000; i--) {
    const cand = cur.slice(0, i).concat(cur.slice(i + 1));
    budget--;
    if (still(cand)) cur = cand;
  }
  return cur;
}
