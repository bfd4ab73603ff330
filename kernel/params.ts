/**
 * The kernel command line: splitting it into parameters (Linux lib/cmdline.c next_arg,
 * with double quotes), the parameters this kernel knows, and what happens to the rest
 * (init/main.c unknown_bootoption: words after "--" and unknown words go to user space,
 * names with a '.' belong to modules that are not built in and are dropped silently).
 *
 * Known parameters:
 *   mem=SIZE[KMGTPE]   limit usable RAM (early; memparse syntax)
 *   loglevel=N         console log level (early)
 *   quiet / debug      console log level 4 / 10 (early)
 *   mktme=on|off       use MKTME or not (this kernel's switch; default on)
 *   mktme.noflush[=B]  skip the cache flushes on KeyID changes (for demonstrations)
 *   mktme_storekeys    keep key payloads to program new packages (RFC May 2019 §3.1)
 *
 * `parse_cmdline` is pure; `setup_boot_params` stores the result for this boot and
 * `print_early_param_warnings` prints the complaints. `boot_params_parsed()` exposes
 * the values to other subsystems.
 */
import { pr_err, pr_notice, pr_warn } from './printk.js';

export const CONSOLE_LOGLEVEL_QUIET = 4;
export const CONSOLE_LOGLEVEL_DEBUG = 10;

export interface kernel_params {
  /** mem=: bytes, or null when not given. */
  mem_limit: number | null;
  /** Console log level requested by loglevel=/quiet/debug (last wins), or null. */
  console_loglevel: number | null;
  quiet: boolean;
  /** mktme=off. */
  mktme_off: boolean;
  mktme_noflush: boolean;
  mktme_storekeys: boolean;
  /** Words handed to init as arguments (unknown words without '=', and after "--"). */
  init_argv: string[];
  /** NAME=VALUE words handed to init's environment (unknown ones). */
  init_envp: string[];
}

export interface ParsedCmdline {
  params: kernel_params;
  /** Unknown parameters, in Linux's print order (argv first, then envp). */
  unknown: string[];
  /** Warning lines to print (malformed values). */
  warnings: string[];
}

export function default_params(): kernel_params {
  return {
    mem_limit: null, console_loglevel: null, quiet: false, mktme_off: false,
    mktme_noflush: false, mktme_storekeys: false, init_argv: [], init_envp: [],
  };
}

/** Split like Linux's next_arg(): whitespace separates, double quotes group (and vanish). */
export function split_cmdline(cmdline: string): { param: string; val: string | null }[] {
  const out: { param: string; val: string | null }[] = [];
  let i = 0;
  const n = cmdline.length;
  while (i < n) {
    while (i < n && /\s/.test(cmdline[i])) i++;
    if (i >= n) break;
    let word = '';
    let inQuote = false;
    let equals = -1;
    for (; i < n; i++) {
      const c = cmdline[i];
      if (c === '"') { inQuote = !inQuote; continue; }
      if (!inQuote && /\s/.test(c)) break;
      if (c === '=' && equals < 0) equals = word.length;
      word += c;
    }
    if (equals < 0) out.push({ param: word, val: null });
    else out.push({ param: word.slice(0, equals), val: word.slice(equals + 1) });
  }
  return out;
}

/** memparse(): a number (0x hex, 0 octal, decimal) with an optional K/M/G/T/P/E suffix. */
export function memparse(s: string): number | null {
  const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)([kKmMgGtTpPeE]?)$/.exec(s);
  if (!m) return null;
  let v: bigint;
  if (/^0[xX]/.test(m[1])) v = BigInt('0x' + m[1].slice(2));
  else if (m[1].length > 1 && m[1][0] === '0') v = BigInt('0o' + m[1].slice(1));
  else v = BigInt(m[1]);
  const shift = { '': 0n, k: 10n, m: 20n, g: 30n, t: 40n, p: 50n, e: 60n }[m[2].toLowerCase()] ?? 0n;
  v <<= shift;
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? null : Number(v);
}

/** kstrtobool(): y/Y/1/on true, n/N/0/off false. */
function kstrtobool(s: string): boolean | null {
  if (/^(y|Y|1|on)$/.test(s)) return true;
  if (/^(n|N|0|off)$/.test(s)) return false;
  return null;
}

/** Parse a command line. Never throws. */
export function parse_cmdline(cmdline: string): ParsedCmdline {
  const params = default_params();
  const warnings: string[] = [];
  const argv: string[] = [];
  const envp: string[] = [];
  let afterDashes = false;
  const malformed = (name: string): void => { warnings.push(`Malformed early option '${name}'`); };

  for (const { param, val } of split_cmdline(cmdline)) {
    const word = val === null ? param : `${param}=${val}`;
    if (afterDashes) { params.init_argv.push(word); continue; }
    if (param === '--' && val === null) { afterDashes = true; continue; }
    switch (param) {
      case 'mem': {
        const v = val === null ? null : memparse(val);
        if (v === null || v === 0) malformed('mem');
        else params.mem_limit = v;
        continue;
      }
      case 'loglevel': {
        if (val === null || !/^[0-9]+$/.test(val)) malformed('loglevel');
        else params.console_loglevel = Number(val);
        continue;
      }
      case 'quiet':
        params.quiet = true;
        params.console_loglevel = CONSOLE_LOGLEVEL_QUIET;
        continue;
      case 'debug':
        params.console_loglevel = CONSOLE_LOGLEVEL_DEBUG;
        continue;
      case 'mktme':
        if (val === 'off') params.mktme_off = true;
        else if (val === 'on') params.mktme_off = false;
        else malformed('mktme');
        continue;
      case 'mktme.noflush': {
        const b = val === null ? true : kstrtobool(val);
        if (b === null) warnings.push(`Booting kernel: \`${val}' invalid for parameter \`mktme.noflush'`);
        else params.mktme_noflush = b;
        continue;
      }
      case 'mktme_storekeys':
        params.mktme_storekeys = true;
        continue;
      default:
        break;
    }
    // unknown_bootoption(): unused module parameters ("foo.bar") are dropped silently.
    if (param.includes('.')) continue;
    if (val === null) argv.push(word);
    else envp.push(word);
  }
  params.init_argv = [...argv, ...params.init_argv];
  params.init_envp = envp;
  return { params, unknown: [...argv, ...envp], warnings };
}

// --- this boot's parameters ----------------------------------------------------------

let saved_command_line = '';
let current: ParsedCmdline = { params: default_params(), unknown: [], warnings: [] };

/** Parse this boot's command line and keep the result (nothing is printed yet). */
export function setup_boot_params(cmdline: string): kernel_params {
  saved_command_line = cmdline;
  current = parse_cmdline(cmdline);
  return current.params;
}

/** parse_early_param()'s complaints about malformed values. */
export function print_early_param_warnings(): void {
  for (const w of current.warnings) {
    if (w.startsWith('Booting kernel:')) pr_err(w);
    else pr_warn(w);
  }
}

/** print_unknown_bootoptions(): one line naming the parameters passed to user space. */
export function print_unknown_bootoptions(): void {
  if (current.unknown.length === 0) return;
  pr_notice(`Unknown kernel command line parameters "${current.unknown.join(' ')}", will be passed to user space.`);
}

/** The parsed parameters of the running kernel. */
export function boot_params_parsed(): Readonly<kernel_params> { return current.params; }

/** The command line as the boot loader passed it (/proc/cmdline). */
export function get_saved_command_line(): string { return saved_command_line; }
