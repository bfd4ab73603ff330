/**
 * perf: Linux perf's `stat` and `list` for this machine's counters (tools/perf's
 * builtin-stat.c output format), counted for the one command it runs:
 *
 *   perf stat [-e EVENT[,EVENT...]]... CMD [ARGS...]
 *   perf list
 *
 * Events: cycles (the TSC: virtual time, arch/x86/hw/timing.ts), cache-references and
 * cache-misses (the package caches), dTLB-load-misses (TLB misses on any data access:
 * the TLB is not split here), and the engine's own, as an uncore PMU would name them:
 * mktme/lines_encrypted/ and mktme/lines_decrypted/ (all KeyIDs, all packages) or one
 * KeyID with a term, mktme/lines_encrypted,keyid=1/. The machine runs one CPU at a time
 * and nothing runs beside the command, so machine-wide deltas are the command's counts.
 * The report goes to stderr, as perf's does; the status is the command's.
 *
 * Also the workloads to measure with it: stream, lat_mem_rd and loop.
 */
import type { Command, ShellApi } from '../registry.js';
import { UsageError } from '../registry.js';
import type { KernelShellContext } from '../context.js';
import { board, getopt } from '../context.js';
import type { Machine } from '../../arch/x86/hw/machine.js';
import { TSC_HZ } from '../../arch/x86/hw/clock.js';
import { streamCommand } from './stream.js';
import { latMemRdCommand } from './lat_mem_rd.js';
import { loopCommand } from './loop.js';

interface EventDef { name: string; desc: string; read(m: Machine, keyid: number | null): number }

function engineSum(m: Machine, which: 'encLines' | 'decLines', keyid: number | null): number {
  let n = 0;
  for (const p of m.packages) {
    const a = p.engine[which];
    if (keyid !== null) n += keyid < a.length ? a[keyid] : 0;
    else for (let k = 0; k < a.length; k++) n += a[k];
  }
  return n;
}

const EVENTS: EventDef[] = [
  { name: 'cycles', desc: 'TSC cycles (virtual time)', read: (m) => m.clock.cycles },
  { name: 'cache-references', desc: 'cache accesses (hits and misses)', read: (m) => m.counters.cacheHits + m.counters.cacheMisses },
  { name: 'cache-misses', desc: 'cache misses', read: (m) => m.counters.cacheMisses },
  { name: 'dTLB-load-misses', desc: 'TLB misses (data and fetch; one TLB)', read: (m) => m.counters.tlbMisses },
  { name: 'mktme/lines_encrypted/', desc: 'lines the engines encrypted on write-back [keyid=N]', read: (m, k) => engineSum(m, 'encLines', k) },
  { name: 'mktme/lines_decrypted/', desc: 'lines the engines decrypted on fill [keyid=N]', read: (m, k) => engineSum(m, 'decLines', k) },
];
const DEFAULT_EVENTS = EVENTS.map((e) => e.name);

interface Selected { label: string; def: EventDef; keyid: number | null }

/** One event name as perf accepts it here; null when it is not one. */
function lookup(name: string): Selected | null {
  const plain = EVENTS.find((e) => e.name === name);
  if (plain) return { label: name, def: plain, keyid: null };
  const m = /^mktme\/(lines_encrypted|lines_decrypted),keyid=(0|[1-9][0-9]{0,4})\/$/.exec(name);
  if (!m) return null;
  return { label: name, def: EVENTS.find((e) => e.name === `mktme/${m[1]}/`)!, keyid: Number(m[2]) };
}

/** Split an -e list on the commas that are not inside a PMU's /terms/. */
function splitEvents(s: string): string[] {
  const out: string[] = [];
  let cur = '', inPmu = false;
  for (const ch of s) {
    if (ch === '/') inPmu = !inPmu;
    if (ch === ',' && !inPmu) { out.push(cur); cur = ''; } else cur += ch;
  }
  out.push(cur);
  return out;
}

const group = (n: number): string => Math.round(n).toLocaleString('en-US');

/** The shell's runner, when it offers one (runCommand); else the registry directly. */
function runNested(ctx: KernelShellContext, argv: string[], io: Parameters<Command<KernelShellContext>['run']>[2],
  sh: ShellApi<KernelShellContext>): number {
  const runner = sh as unknown as { runCommand?: (argv: readonly string[]) => number };
  if (typeof runner.runCommand === 'function') return runner.runCommand(argv);
  const cmd = sh.registry.get(argv[0]);
  if (!cmd) { io.err(`sh: ${argv[0]}: command not found\n`); return 127; }
  return cmd.run(ctx, argv.slice(1), io, sh);
}

export const perfCommand: Command<KernelShellContext> = {
  name: 'perf',
  usage: 'perf stat [-e EVENTS]... CMD [ARGS...] | perf list',
  summary: "count the machine's events (cycles, caches, TLB, mktme engine) for a command",
  help: `Events: ${DEFAULT_EVENTS.join(', ')}; mktme/lines_encrypted,keyid=N/ (and decrypted) for one KeyID.`,
  run(ctx, args, io, sh) {
    if (args[0] === 'list' && args.length === 1) {
      let out = '\nList of pre-defined events (to be used in -e or -M):\n\n';
      for (const e of EVENTS) out += `  ${e.name.padEnd(48)} [${e.desc}]\n`;
      io.out(out + '\n');
      return 0;
    }
    if (args[0] !== 'stat') throw new UsageError(args.length ? `unknown subcommand '${args[0]}'` : '');
    const o = getopt(args.slice(1), 'e:');
    if (o.rest.length === 0) throw new UsageError('no command given');
    const names = o.opts.length ? o.opts.flatMap(([, arg]) => splitEvents(arg!)) : DEFAULT_EVENTS;
    const selected: Selected[] = [];
    for (const name of names) {
      const s = lookup(name);
      if (!s) {
        io.err(`event syntax error: '${name}'\n${' '.repeat(21)}\\___ parser error\nRun 'perf list' for a list of valid events\n`);
        return 129;
      }
      selected.push(s);
    }
    const m = board(ctx); // the machine owner's counters: not inside a guest
    const before = selected.map((s) => s.def.read(m, s.keyid));
    const t0 = m.clock.cycles;
    const refs0 = EVENTS[1].read(m, null);
    const status = runNested(ctx, o.rest, io, sh);
    const elapsed = (m.clock.cycles - t0) / TSC_HZ;
    const counts = selected.map((s, i) => s.def.read(m, s.keyid) - before[i]);
    let out = `\n Performance counter stats for '${o.rest.join(' ')}':\n\n`;
    selected.forEach((s, i) => {
      let line = `${group(counts[i]).padStart(18)}      ${s.label}`;
      if (s.label === 'cache-misses') {
        const refs = EVENTS[1].read(m, null) - refs0;
        if (refs > 0) line = line.padEnd(50) + `#  ${(100 * counts[i] / refs).toFixed(3).padStart(7)} % of all cache refs`;
      }
      out += line + '\n';
    });
    out += `\n ${elapsed.toFixed(9).padStart(17)} seconds time elapsed\n\n`;
    io.err(out);
    return status;
  },
};

/** perf and the workloads it measures, registered together (tools/commands/index.ts). */
export const perfCommands: readonly Command<KernelShellContext>[] = [perfCommand, streamCommand, latMemRdCommand, loopCommand];
