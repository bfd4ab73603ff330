/**
 * The shell's command line: machine configuration, kernel command line, and where the
 * commands come from. Produces a MachineConfig (arch/x86/hw/config.ts) or an error; it
 * never throws and never touches the host (files are opened later, by the runner).
 *
 * Values are checked for range here; combinations that real firmware could get wrong
 * (BIOS KeyID bits above what the CPU supports, inconsistent packages) are left to the
 * machine, which must show what happens. Two defaults follow other options:
 * - `--cpu max_keyid_bits=N` without max_keys sets max_keys to 2^N - 1;
 * - `--cpu max_keyid_bits=N` without `--bios keyid_bits` sets keyid_bits to N.
 */
import { makeConfig, type AlgName, type BiosConfig, type CpuConfig, type DiskConfig, type MachineConfig } from '../arch/x86/hw/config.js';
import * as fs from 'node:fs';
import { buildMemMap } from '../arch/x86/hw/memmap.js';
import { parseIntIn, parseOnOff, parseSize, parseNumber, type Result, ok, fail } from './lib/parse.js';

export type ShellMode =
  | { kind: 'interactive' }
  | { kind: 'command'; text: string }
  /** A script FILE, and its arguments ($1...). */
  | { kind: 'file'; path: string; args: string[] }
  | { kind: 'stdin' };

export interface ShellOptions {
  config: MachineConfig;
  /** Kernel command line from --append ('' when none; the boot code adds defaults). */
  cmdline: string;
  mode: ShellMode;
}

export type OptionsResult =
  | { kind: 'run'; options: ShellOptions }
  | { kind: 'help'; text: string }
  | { kind: 'version' }
  | { kind: 'error'; message: string; usage: string };

export const USAGE = `\
usage: tools/shell [OPTION...] [-c 'CMD; CMD...' | FILE [ARG...]]

Boots the emulated MKTME machine and runs shell commands: typed at a prompt, from
-c, from FILE, or from standard input when it is not a terminal (FILE '-' also).
A script gets its ARGs as $1...; options may still follow FILE, and after '--'
everything is FILE then ARGs (before FILE) or ARGs (after it).

Machine:
  --seed N             RNG seed, 0..0xffffffff (platform and random keys) [1]
  --nodes N            packages (sockets), one NUMA node each, 1..8       [2]
  --cpus N             CPUs per package, 1..64                            [2]
  --mem SIZE           DRAM per node, a 4K multiple >= 16M                [128M]
  --nvram SIZE         NVRAM on node 0, a 4K multiple, 0 for none         [64M]
  --nvram-file PATH    keep NVRAM contents in a host file
  --disk SPEC          a virtio disk (repeatable; the first replaces the default
                       16M in-memory disk at 00:03.0): PATH (a host image file,
                       kept across runs) or 'mem', then ,size=SIZE ,dma=32|64
  --cpu KEY=VAL,...    processor capabilities:
        tme=on|off pconfig=on|off max_keyid_bits=0..15 max_keys=N
        maxphyaddr=36..52 pconfig_rev=sdm|1.3 algs=ALG+ALG|none bypass=on|off
        movdir64b=on|off
  --bios KEY=VAL,...   firmware settings:
        tme=on|off lock=on|off keyid_bits=0..15 policy=ALG algs=ALG+ALG|none
        bypass=on|off exclude=BASE:SIZE|none inconsistent=on|off savekey=on|off
        vtd=on|off (the DMAR table: VT-d for the kernel)
        (ALG is aes-xts-128 or aes-xts-256; SIZE takes K/M/G suffixes)
Kernel:
  --append 'ARGS'      kernel command line (repeatable, joined by spaces)
Shell:
  -c 'CMDS'            run CMDS (separated by ';' or newlines) and exit
  -h, --help           show this help
  --version            show the version
History is kept in ~/.mktme_history (MKTME_HISTORY=FILE elsewhere, empty: none).
Options also accept --opt=VALUE. The exit status is that of the last command.
`;

const ALGS: readonly AlgName[] = ['aes-xts-128', 'aes-xts-256'];
const KiB = 1024;
const MAX_MEM = 2 ** 40; // 1 TiB per node / of NVRAM: the backing store is sparse

/** Parse argv (without node and script). `stdinIsTty` picks interactive vs stdin mode. */
export function parseOptions(argv: readonly string[], stdinIsTty: boolean): OptionsResult {
  const r = parse(argv, stdinIsTty);
  if (r === 'help') return { kind: 'help', text: USAGE };
  if (r === 'version') return { kind: 'version' };
  if (!r.ok) return { kind: 'error', message: r.error, usage: USAGE };
  return { kind: 'run', options: r.value };
}

/** Options that take a value. */
const VALUED = new Set(['--seed', '--mem', '--nodes', '--cpus', '--nvram', '--nvram-file', '--disk',
  '--bios', '--cpu', '--append', '-c']);

function parse(argv: readonly string[], stdinIsTty: boolean): Result<ShellOptions> | 'help' | 'version' {
  const patch: Partial<Omit<MachineConfig, 'cpu' | 'bios'>> = {};
  const cpu: Partial<CpuConfig> = {};
  const bios: Partial<BiosConfig> = {};
  const append: string[] = [];
  let command: string | null = null;
  let file: string | null = null;
  const args: string[] = [];
  let nvramFile: string | null = null;
  const disks: DiskConfig[] = [];

  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value: string | undefined;
    if (arg === '-h' || arg === '--help') return 'help';
    if (arg === '--version') return 'version';
    if (arg === '--') {
      const rest = argv.slice(i + 1);
      if (file === null && rest.length > 0) file = rest.shift()!;
      args.push(...rest);
      break;
    }
    if (arg.startsWith('--') && arg.includes('=')) {
      value = arg.slice(arg.indexOf('=') + 1);
      arg = arg.slice(0, arg.indexOf('='));
    }
    if (!VALUED.has(arg)) {
      if (arg.startsWith('-') && arg !== '-') return fail(`unknown option '${arg}'`);
      if (file !== null) args.push(arg); // the script's $1...
      else file = arg;
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) return fail(`option '${arg}' needs a value`);
      value = argv[++i];
    }
    let r: Result<unknown>;
    switch (arg) {
      case '--seed':
        r = parseIntIn(value, 0, 0xffffffff, '--seed');
        if (r.ok) patch.seed = r.value as number;
        break;
      case '--nodes':
        r = parseIntIn(value, 1, 8, '--nodes');
        if (r.ok) patch.packages = r.value as number;
        break;
      case '--cpus':
        r = parseIntIn(value, 1, 64, '--cpus');
        if (r.ok) patch.cpusPerPackage = r.value as number;
        break;
      case '--mem':
        r = checkSize(value, '--mem', 16 * 1024 * KiB);
        if (r.ok) patch.memPerNode = r.value as number;
        break;
      case '--nvram':
        r = checkSize(value, '--nvram', 0);
        if (r.ok) patch.nvramSize = r.value as number;
        break;
      case '--nvram-file':
        r = value === '' ? fail('--nvram-file needs a path') : ok(value);
        if (r.ok) nvramFile = value;
        break;
      case '--disk':
        r = parseDisk(value);
        if (r.ok) disks.push(r.value as DiskConfig);
        break;
      case '--cpu':
        r = parseCpu(value, cpu);
        break;
      case '--bios':
        r = parseBios(value, bios);
        break;
      case '--append':
        r = ok(value);
        if (value.trim() !== '') append.push(value.trim());
        break;
      default: // '-c'
        r = command === null ? ok(value) : fail("more than one '-c'");
        command = value;
        break;
    }
    if (!r.ok) return r;
  }

  if (command !== null && file !== null) return fail(`both -c and FILE ('${file}') given`);

  // Defaults that follow the CPU's KeyID width (see the header).
  if (cpu.maxKeyIdBits !== undefined) {
    if (cpu.maxKeys === undefined) cpu.maxKeys = 2 ** cpu.maxKeyIdBits - 1;
    if (bios.keyIdBits === undefined) bios.keyIdBits = cpu.maxKeyIdBits;
  }
  const config = makeConfig({ ...patch, nvramFile, cpu, bios, ...(disks.length ? { disks } : {}) });
  const bad = checkConfig(config);
  if (bad) return fail(bad);

  let mode: ShellMode;
  if (command !== null) mode = { kind: 'command', text: command };
  else if (file === '-' && args.length > 0) return fail(`arguments after FILE '-' (${args.join(' ')})`);
  else if (file === '-') mode = { kind: 'stdin' };
  else if (file !== null) mode = { kind: 'file', path: file, args };
  else mode = stdinIsTty ? { kind: 'interactive' } : { kind: 'stdin' };
  return ok({ config, cmdline: append.join(' '), mode });
}

function checkSize(s: string, what: string, min: number): Result<number> {
  const r = parseSize(s);
  if (!r.ok) return fail(`${what}: ${r.error}`);
  if (r.value % (4 * KiB) !== 0) return fail(`${what} must be a multiple of 4K, not '${s}'`);
  if (r.value < min) return fail(`${what} must be at least ${min / (1024 * KiB)}M, not '${s}'`);
  if (r.value > MAX_MEM) return fail(`${what} must be at most 1T, not '${s}'`);
  return r;
}

/** Split "k=v,k=v" into pairs; `what` names the option in errors. */
function keyValues(s: string, what: string): Result<[string, string][]> {
  const pairs: [string, string][] = [];
  if (s === '') return fail(`${what} needs KEY=VALUE settings`);
  for (const item of s.split(',')) {
    const eq = item.indexOf('=');
    if (eq <= 0) return fail(`${what}: expected KEY=VALUE, not '${item}'`);
    pairs.push([item.slice(0, eq), item.slice(eq + 1)]);
  }
  return ok(pairs);
}

function parseAlg(s: string, what: string): Result<AlgName> {
  const alg = ALGS.find((a) => a === s);
  return alg ? ok(alg) : fail(`${what} must be ${ALGS.join(' or ')}, not '${s}'`);
}

/** "aes-xts-128+aes-xts-256", or "none" for the empty list. */
function parseAlgList(s: string, what: string): Result<AlgName[]> {
  if (s === 'none') return ok([]);
  const algs: AlgName[] = [];
  for (const part of s.split('+')) {
    const r = parseAlg(part, what);
    if (!r.ok) return fail(`${r.error} (list with '+', or 'none')`);
    if (algs.includes(r.value)) return fail(`${what}: '${part}' listed twice`);
    algs.push(r.value);
  }
  return ok(algs);
}

function parseCpu(s: string, cpu: Partial<CpuConfig>): Result<true> {
  const kv = keyValues(s, '--cpu');
  if (!kv.ok) return kv;
  for (const [key, val] of kv.value) {
    const what = `--cpu ${key}`;
    let r: Result<unknown>;
    switch (key) {
      case 'tme': r = parseOnOff(val, what); if (r.ok) cpu.tme = r.value as boolean; break;
      case 'pconfig': r = parseOnOff(val, what); if (r.ok) cpu.pconfig = r.value as boolean; break;
      case 'movdir64b': r = parseOnOff(val, what); if (r.ok) cpu.movdir64b = r.value as boolean; break;
      case 'bypass': r = parseOnOff(val, what); if (r.ok) cpu.bypassSupported = r.value as boolean; break;
      case 'max_keyid_bits': r = parseIntIn(val, 0, 15, what); if (r.ok) cpu.maxKeyIdBits = r.value as number; break;
      case 'max_keys': r = parseIntIn(val, 0, 32767, what); if (r.ok) cpu.maxKeys = r.value as number; break;
      case 'maxphyaddr': r = parseIntIn(val, 36, 52, what); if (r.ok) cpu.maxPhysAddr = r.value as number; break;
      case 'algs': r = parseAlgList(val, what); if (r.ok) cpu.algs = r.value as AlgName[]; break;
      case 'pconfig_rev':
        r = val === 'sdm' || val === '1.3' ? ok(val) : fail(`${what} must be sdm or 1.3, not '${val}'`);
        if (r.ok) cpu.pconfigRev = val as 'sdm' | '1.3';
        break;
      default:
        r = fail(`--cpu: unknown key '${key}' (tme, pconfig, max_keyid_bits, max_keys, maxphyaddr, pconfig_rev, algs, bypass)`);
    }
    if (!r.ok) return r;
  }
  return ok(true);
}

function parseBios(s: string, bios: Partial<BiosConfig>): Result<true> {
  const kv = keyValues(s, '--bios');
  if (!kv.ok) return kv;
  for (const [key, val] of kv.value) {
    const what = `--bios ${key}`;
    let r: Result<unknown>;
    switch (key) {
      case 'tme': r = parseOnOff(val, what); if (r.ok) bios.tme = r.value as boolean; break;
      case 'lock': r = parseOnOff(val, what); if (r.ok) bios.lock = r.value as boolean; break;
      case 'bypass': r = parseOnOff(val, what); if (r.ok) bios.bypass = r.value as boolean; break;
      case 'inconsistent': r = parseOnOff(val, what); if (r.ok) bios.inconsistent = r.value as boolean; break;
      case 'savekey': r = parseOnOff(val, what); if (r.ok) bios.saveKey = r.value as boolean; break;
      case 'vtd': r = parseOnOff(val, what); if (r.ok) bios.vtd = r.value as boolean; break;
      case 'keyid_bits': r = parseIntIn(val, 0, 15, what); if (r.ok) bios.keyIdBits = r.value as number; break;
      case 'policy': r = parseAlg(val, what); if (r.ok) bios.policy = r.value as AlgName; break;
      case 'algs': r = parseAlgList(val, what); if (r.ok) bios.algs = r.value as AlgName[]; break;
      case 'exclude': r = parseExclude(val); if (r.ok) bios.exclude = r.value as BiosConfig['exclude']; break;
      default:
        r = fail(`--bios: unknown key '${key}' (tme, lock, keyid_bits, policy, algs, bypass, exclude, inconsistent, savekey, vtd)`);
    }
    if (!r.ok) return r;
  }
  return ok(true);
}

/**
 * --disk PATH|mem[,size=SIZE][,dma=32|64]. A file image keeps its size when it exists
 * (rounded down to whole sectors); a new one, or 'mem', is SIZE (default 16M).
 */
function parseDisk(s: string): Result<DiskConfig> {
  const [where, ...opts] = s.split(',');
  if (where === '') return fail('--disk needs a PATH or mem');
  const d: DiskConfig = { file: where === 'mem' ? null : where, size: 16 * 1024 * KiB, dmaBits: 64 };
  let sized = false;
  for (const o of opts) {
    const [k, v] = o.split('=');
    if (k === 'size' && v !== undefined) {
      const r = parseSize(v);
      if (!r.ok || r.value < 512 || r.value % 512 || r.value > 2 ** 40) return fail(`--disk size must be a multiple of 512 up to 1T, not '${v}'`);
      d.size = r.value;
      sized = true;
    } else if (k === 'dma' && (v === '32' || v === '64')) d.dmaBits = v === '32' ? 32 : 64;
    else return fail(`--disk: unknown option '${o}' (size=SIZE, dma=32|64)`);
  }
  if (d.file !== null && !sized && fs.existsSync(d.file)) {
    const size = Math.floor(fs.statSync(d.file).size / 512) * 512;
    if (size > 0) d.size = size;
  }
  return ok(d);
}

/** BASE:SIZE, SIZE a power of two >= 4K, BASE a multiple of SIZE; or "none". */
function parseExclude(s: string): Result<BiosConfig['exclude']> {
  if (s === 'none') return ok(null);
  const colon = s.indexOf(':');
  if (colon < 0) return fail(`--bios exclude must be BASE:SIZE, not '${s}'`);
  const base = parseNumber(s.slice(0, colon));
  if (!base.ok) return fail(`--bios exclude base: ${base.error}`);
  const size = parseSize(s.slice(colon + 1));
  if (!size.ok) return fail(`--bios exclude size: ${size.error}`);
  const n = size.value;
  if (n < 4 * KiB || !Number.isInteger(Math.log2(n))) {
    return fail(`--bios exclude size must be a power of two >= 4K, not '${s.slice(colon + 1)}'`);
  }
  if (base.value % n !== 0) return fail(`--bios exclude base must be a multiple of its size, not '${s.slice(0, colon)}'`);
  return ok({ base: base.value, size: n });
}

/** Whole-config checks: things no processor or board could have. */
function checkConfig(cfg: MachineConfig): string | null {
  const { cpu, bios } = cfg;
  if (cpu.maxKeys > 2 ** cpu.maxKeyIdBits - 1) {
    return `--cpu max_keys=${cpu.maxKeys} needs max_keyid_bits >= ${Math.ceil(Math.log2(cpu.maxKeys + 1))} ` +
      `(max_keyid_bits=${cpu.maxKeyIdBits} allows at most ${2 ** cpu.maxKeyIdBits - 1} keys)`;
  }
  if (cpu.maxKeyIdBits >= cpu.maxPhysAddr) return '--cpu max_keyid_bits must be below maxphyaddr';
  if (cfg.nvramFile !== null && cfg.nvramSize === 0) return '--nvram-file needs NVRAM (--nvram is 0)';
  const map = buildMemMap(cfg);
  const top = Math.max(...map.map((r) => r.base + r.size));
  if (top > 2 ** cpu.maxPhysAddr) {
    return `memory ends at 0x${top.toString(16)}, beyond maxphyaddr=${cpu.maxPhysAddr} ` +
      `(0x${(2 ** cpu.maxPhysAddr).toString(16)}); use less --mem/--nvram or a larger maxphyaddr`;
  }
  if (bios.exclude && bios.exclude.base + bios.exclude.size > 2 ** cpu.maxPhysAddr) {
    return '--bios exclude range lies beyond maxphyaddr';
  }
  return null;
}
