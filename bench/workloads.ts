/**
 * The workload table in README.md ("The cost depends on the workload"): each built-in
 * workload run as a user process under four memory configurations, in the machine's
 * virtual time (arch/x86/hw/timing.ts), with the slowdown against TME off.
 *
 *   node build/bench/workloads.js          prints the markdown table
 *
 * Configurations: the BIOS leaves TME off; TME on (the process on KeyID 0, the platform
 * key); an mktme key (type=cpu, AES-XTS-128); a no-encrypt key (type=no-encrypt). Each
 * row boots a fresh default machine (same seed), so the runs differ only in the engine.
 * Virtual time is deterministic: the table is the same on every host and every run.
 */
import { parseOptions } from '../tools/options.js';
import { bootKernelShell, shutdownKernelShell } from '../tools/context.js';
import { bufferIo } from '../tools/lib/io.js';
import { Registry, Shell } from '../tools/registry.js';
import { shellCommands } from '../tools/commands/index.js';

interface Config { name: string; bios: string[]; key: string | null }

const CONFIGS: Config[] = [
  { name: 'TME off', bios: ['--bios', 'tme=off'], key: null },
  { name: 'TME on (KeyID 0)', bios: [], key: null },
  { name: 'mktme key', bios: [], key: 'type=cpu algorithm=aes-xts-128' },
  { name: 'no-encrypt key', bios: [], key: 'type=no-encrypt' },
];

interface Workload {
  name: string;
  /** The command, with `-k SERIAL` inserted after its name when a key is used. */
  cmd: string;
  unit: string;
  /** The figure from the command's stdout+stderr. */
  value(out: string): number;
  /** true: higher is better (a rate), so slowdown = off/value - 1. */
  rate: boolean;
}

const lastLatency = (out: string): number => {
  const rows = out.trim().split('\n').filter((l) => /^[0-9.]+ [0-9.]+$/.test(l));
  return Number(rows[rows.length - 1].split(' ')[1]);
};

const WORKLOADS: Workload[] = [
  { name: 'cache-resident loop (16 KiB, 100 passes)', cmd: 'loop', unit: 'cycles/load', rate: false,
    value: (o) => Number(/([0-9.]+) cycles\/load/.exec(o)![1]) },
  { name: 'STREAM Triad (3 x 2 MiB arrays)', cmd: 'stream -n 256K', unit: 'MB/s', rate: true,
    value: (o) => Number(/Triad:\s+([0-9.]+)/.exec(o)![1]) },
  { name: 'STREAM Copy (3 x 2 MiB arrays)', cmd: 'stream -n 256K', unit: 'MB/s', rate: true,
    value: (o) => Number(/Copy:\s+([0-9.]+)/.exec(o)![1]) },
  { name: 'lat_mem_rd 4 MB, stride 128 (pointer chase)', cmd: 'lat_mem_rd 4 128', unit: 'ns/load', rate: false,
    value: lastLatency },
  { name: 'lat_mem_rd 4 MB, stride 64 (sequential lines)', cmd: 'lat_mem_rd 4 64', unit: 'ns/load', rate: false,
    value: lastLatency },
];

function runConfig(c: Config, commands: string[]): string[] {
  const r = parseOptions(['-c', 'true', ...c.bios], false);
  if (r.kind !== 'run') throw new Error('bad options');
  const buf = bufferIo();
  const ctx = bootKernelShell(r.options, buf.io);
  const sh = new Shell(new Registry(shellCommands), ctx, buf.io);
  const exec = (line: string): string => {
    const from = buf.all.length;
    const status = sh.runScript(line);
    const out = buf.all.slice(from);
    if (status !== 0) throw new Error(`'${line}' (${c.name}) failed: ${out}`);
    return out;
  };
  let serial = '';
  if (c.key) serial = exec(`keyctl add mktme table '${c.key}' @u`).trim().split('\n').pop()!;
  const outs = commands.map((cmd) => {
    const [name, ...rest] = cmd.split(' ');
    return exec(serial ? [name, '-k', serial, ...rest].join(' ') : cmd);
  });
  shutdownKernelShell(ctx);
  return outs;
}

function main(): void {
  const cmds = [...new Set(WORKLOADS.map((w) => w.cmd))];
  const results = CONFIGS.map((c) => {
    const outs = runConfig(c, cmds);
    return WORKLOADS.map((w) => w.value(outs[cmds.indexOf(w.cmd)]));
  });
  const fmt = (v: number): string => (v >= 100 ? v.toFixed(0) : v.toFixed(2));
  const pct = (w: Workload, off: number, v: number): string => {
    const s = w.rate ? off / v - 1 : v / off - 1;
    return `${s >= 0 ? '+' : ''}${(100 * s).toFixed(1)}%`;
  };
  let out = `| workload | unit | ${CONFIGS.map((c) => c.name).join(' | ')} |\n`;
  out += `|---|---|${CONFIGS.map(() => '---:').join('|')}|\n`;
  WORKLOADS.forEach((w, i) => {
    const off = results[0][i];
    const cells = CONFIGS.map((_, k) => (k === 0 ? fmt(off) : `${fmt(results[k][i])} (${pct(w, off, results[k][i])})`));
    out += `| ${w.name} | ${w.unit} | ${cells.join(' | ')} |\n`;
  });
  process.stdout.write(out);
}

main();
