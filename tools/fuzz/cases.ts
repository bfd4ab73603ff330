/**
 * The fuzzer's vocabulary (tools/fuzz): the machine configurations it boots, its own
 * seeded generator, the shape of a case, the malformed commands it throws at the shell,
 * and how a case is written back as one replayable shell command line.
 */

export interface FuzzConfig { name: string; args: string[]; savekey: boolean; storekeys: boolean; tme: boolean; kid0Plain: boolean }

/** The machine configurations the fuzzer boots. Small DRAM keeps boots fast. */
export const CONFIGS: FuzzConfig[] = [
  { name: 'default', args: [], savekey: false, storekeys: false, tme: true, kid0Plain: false },
  { name: 'bypass', args: ['--bios', 'bypass=on'], savekey: false, storekeys: false, tme: true, kid0Plain: true },
  { name: 'tme-off', args: ['--bios', 'tme=off'], savekey: false, storekeys: false, tme: false, kid0Plain: true },
  { name: 'savekey', args: ['--bios', 'savekey=on'], savekey: true, storekeys: false, tme: true, kid0Plain: false },
  { name: 'storekeys', args: ['--bios', 'savekey=on', '--append', 'mktme_storekeys'], savekey: true, storekeys: true, tme: true, kid0Plain: false },
  { name: 'keyid-bits-2', args: ['--bios', 'keyid_bits=2'], savekey: false, storekeys: false, tme: true, kid0Plain: false },
  { name: 'pconfig-1.3', args: ['--cpu', 'pconfig_rev=1.3'], savekey: false, storekeys: false, tme: true, kid0Plain: false },
  { name: 'exclude', args: ['--bios', 'exclude=0x0:0x200000'], savekey: false, storekeys: false, tme: true, kid0Plain: false },
  { name: '1x1', args: ['--nodes', '1', '--cpus', '1'], savekey: false, storekeys: false, tme: true, kid0Plain: false },
  { name: '3x3', args: ['--nodes', '3', '--cpus', '3'], savekey: false, storekeys: false, tme: true, kid0Plain: false },
];

/** xorshift32: the generator's own randomness (the machine has its --seed). */
export class Rng {
  private s: number;
  constructor(seed: number) { this.s = (seed >>> 0) || 0x9e3779b9; }
  next(): number { let x = this.s; x ^= x << 13; x ^= x >>> 17; x ^= x << 5; this.s = x >>> 0; return this.s; }
  int(n: number): number { return this.next() % n; }
  pick<T>(a: readonly T[]): T { return a[this.int(a.length)]; }
}

export interface CaseSpec { seed: number; config: FuzzConfig; kind: 'valid' | 'malformed'; ops: number }
export interface CaseResult { ops: string[][]; transcript: string; failure: string | null; failedAt: number; lastOut: string }

export const COMMON = ['--mem', '32M', '--nvram', '0', '--append', 'quiet'];

/** A word as sh reads it back: bare when safe, else in single quotes. */
export function quoteWord(w: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, "'\\''")}'`;
}

// --- malformed commands ---------------------------------------------------------------

const NAMES = ['cat', 'ls', 'cpuid', 'rdmsr', 'devmem', 'dmesg', 'stat', 'memmap', 'keyctl', 'ps', 'fork', 'switch',
  'su', 'mmap', 'munmap', 'mprotect', 'encrypt_mprotect', 'write', 'read', 'pagemap', 'help', 'echo', 'sync',
  'cache', 'nosuchcmd', 'suspend', 'blk', 'lspci', 'vm'];
const WORDS = ['', '-1', '0', '1', '0x', '0x7efffffff000', '0x7effffffe000', '0xffffffffffffffffffff', '4K', '1G',
  '99999999999999999999G', 'NaN', '1e9', '-', '--', '-x', '-k', '-p', "'", '"', 'rw', 'rwx', 'none', 'shared', '@u', '@s',
  '%:x', 'type=cpu', 'add', 'show', 'list', 'revoke', 'mktme', 'user', '/proc/keys', '/proc/1/maps', '/dev/mem',
  '/dev/cpu/0/msr', '../..', 'x'.repeat(300), '\u00e9', '0x981', '0x982', '1397604227', '-2147483648', '4294967296'];

export function malformed(rng: Rng): string[] {
  const name = rng.pick(NAMES);
  const args: string[] = [];
  for (let i = rng.int(5); i > 0; i--) args.push(rng.pick(WORDS));
  if (name === 'devmem') return [name, ...args.filter((a) => a !== '-w')];
  // running as init on purpose and faulting there kills init, as it would in Linux
  if (name === 'switch') return [name, ...args.filter((a) => a !== '1')];
  return [name, ...args];
}

// --- replay ---------------------------------------------------------------------------

/** The shell command line that replays `ops` on the case's machine. */
export function replayLine(spec: CaseSpec, ops: string[][]): string {
  const script = ops.map((c) => c.map(quoteWord).join(' ')).join('; ');
  return ['node', 'build/tools/shell.js', '--seed', String(spec.seed), ...COMMON, ...spec.config.args]
    .map((w) => (/^[\w./=:,+-]+$/.test(w) ? w : quoteWord(w))).join(' ') + ' -c ' + quoteWord(script);
}
