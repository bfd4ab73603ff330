/**
 * Boot parameters as Linux registers and parses them. The owning code declares each
 * parameter next to itself; this file only keeps the registries and walks the command
 * line (Linux kernel/params.c parse_args/parse_one, init/main.c do_early_param,
 * obsolete_checksetup, unknown_bootoption, print_unknown_bootoptions).
 *
 *   early_param(name, fn)        include/linux/init.h: run in parse_early_param, before
 *                                setup_arch uses them; fn(val) != 0 prints
 *                                "Malformed early option 'name'"
 *   __setup(name, fn)            include/linux/init.h: an obsolete-style handler run from
 *                                unknown_bootoption; fn returns 1 when it took the word
 *   core_param(name, ops, def)   include/linux/moduleparam.h: a kernel_param without prefix
 *   module_param(mod, name, ...) a built-in module's parameter, `mod.name` on the line
 *
 * Values are parsed in one place by the param_ops_* below on lib/kstrtox.ts. A value
 * a kernel_param refuses prints Linux's "Booting kernel: `VAL' invalid for parameter
 * `NAME'". An unknown word goes to init: NAME=VALUE to its environment, others to argv,
 * everything after "--" to argv, and the plain ones are named in one line (Linux 5.8+).
 * An unknown `mod.name` is dropped silently as built-in Linux does, except where `mod`
 * is a module that registered parameters here: then the word is a misspelling and gets
 * the module loader's line (kernel/module/main.c unknown_module_param_cb),
 * "mod: unknown parameter 'name' ignored".
 *
 * The registries are this module's state, so each instance of the kernel's modules (a
 * guest kernel is another instance) has its own; registration happens when the owning
 * module is evaluated, as Linux's linker sections are filled at link time. A C kernel
 * initialises its statics once per image; here one image boots many times, so every
 * parameter names its initial value (a kernel_param's `def`, an early/__setup handler's
 * `reset`) and setup_boot_params() restores them all before it parses.
 */
import { EINVAL } from './errno.js';
import { pr_err, pr_notice, pr_warn } from './printk.js';
import { split_cmdline } from '../lib/cmdline.js';
import { kstrtobool, kstrtoint, kstrtoul, kstrtouint, type kstrto_res } from '../lib/kstrtox.js';

/** struct kernel_param_ops: parse `val` into kp.value (0 or -errno), and format it. */
export interface kernel_param_ops<T> {
  /** KERNEL_PARAM_OPS_FL_NOARG: the bare name is allowed (bool: means "set"). */
  noarg?: boolean;
  set(val: string | null, kp: kernel_param<T>): number;
  get(kp: kernel_param<T>): string;
}

/** struct kernel_param: one core or module parameter and its current value. */
export interface kernel_param<T> {
  /** As written on the command line: `name` or `mod.name`. */
  readonly name: string;
  readonly ops: kernel_param_ops<T>;
  /** The value before the command line (a C static's initialiser). */
  readonly def: T;
  value: T;
}

function ops_from<T>(parse: (s: string, res: kstrto_res<T>) => number, get: (v: T) => string): kernel_param_ops<T> {
  return {
    set(val, kp) {
      if (val === null) return -EINVAL;
      const res = { val: kp.value };
      const err = parse(val, res);
      if (err) return err;
      kp.value = res.val;
      return 0;
    },
    get: (kp) => get(kp.value),
  };
}

/** param_ops_bool: kstrtobool; the bare name means true (param_set_bool). */
export const param_ops_bool: kernel_param_ops<boolean> = {
  noarg: true,
  set(val, kp) { return param_ops_bool_strict.set(val ?? '1', kp); },
  get: (kp) => (kp.value ? 'Y' : 'N'),
};
const param_ops_bool_strict = ops_from<boolean>(kstrtobool, (v) => (v ? 'Y' : 'N'));
export const param_ops_int = ops_from<number>((s, r) => kstrtoint(s, 0, r), String);
export const param_ops_uint = ops_from<number>((s, r) => kstrtouint(s, 0, r), String);
export const param_ops_ulong = ops_from<number>((s, r) => kstrtoul(s, 0, r), String);
/** param_ops_charp: the string as given. */
export const param_ops_charp = ops_from<string>((s, r) => { r.val = s; return 0; }, (v) => v);

/** struct obs_kernel_param: an early_param or __setup handler. */
interface obs_kernel_param {
  str: string;
  fn: (val: string | null) => number;
  early: boolean;
  reset: (() => void) | undefined;
}

// --- the registries (Linux: the __param and .init.setup sections) ---------------------

const kernel_params: kernel_param<unknown>[] = [];
const setup_params: obs_kernel_param[] = [];
/** Modules that registered parameters (their prefixes are known). */
const param_modules = new Set<string>();

function register<T>(name: string, ops: kernel_param_ops<T>, def: T): kernel_param<T> {
  if (kernel_params.some((kp) => kp.name === name)) throw new Error(`kernel_param ${name} registered twice`);
  const kp: kernel_param<T> = { name, ops, def, value: def };
  kernel_params.push(kp as kernel_param<unknown>);
  return kp;
}

/** core_param(name, var, type, perm): a parameter without prefix. */
export function core_param<T>(name: string, ops: kernel_param_ops<T>, def: T): kernel_param<T> {
  return register(name, ops, def);
}

/** module_param(name, type, perm) in module `mod` (KBUILD_MODNAME): `mod.name=VAL`. */
export function module_param<T>(mod: string, name: string, ops: kernel_param_ops<T>, def: T): kernel_param<T> {
  param_modules.add(mod);
  return register(`${mod}.${name}`, ops, def);
}

/**
 * early_param(str, fn): `fn(val)` runs for every `str` or `str=val` word before
 * setup_arch; a non-zero return is a malformed value. `reset` restores the state fn
 * sets, before each boot's parse.
 */
export function early_param(str: string, fn: (val: string | null) => number, reset?: () => void): void {
  setup_params.push({ str, fn, early: true, reset });
}

/**
 * __setup(str, fn): `fn(val)` ('' for the bare word) runs from unknown_bootoption and
 * returns 1 when it took the word, 0 to let it go on to init.
 */
export function __setup(str: string, fn: (val: string) => number, reset?: () => void): void {
  setup_params.push({ str, fn: (v) => fn(v ?? ''), early: false, reset });
}

/** A kernel_param's value as /sys/module/MOD/parameters/NAME shows it, or null. */
export function param_get(name: string): string | null {
  const kp = kernel_params.find((p) => p.name === name);
  return kp ? kp.ops.get(kp) : null;
}

// --- this boot's command line ---------------------------------------------------------

let saved_command_line = '';
/** Complaints found while parsing, printed by print_early_param_warnings(). */
let complaints: { level: 'warn' | 'err'; text: string }[] = [];
let unknown_options: string[] = [];
let argv_init: string[] = [];
let envp_init: string[] = [];

/** do_early_param() for every word up to "--". */
function parse_early_param(words: ReturnType<typeof split_cmdline>): void {
  for (const { param, val } of words) {
    if (param === '--' && val === null) break;
    for (const p of setup_params) {
      if (p.early && p.str === param && p.fn(val) !== 0) {
        complaints.push({ level: 'warn', text: `Malformed early option '${param}'` });
      }
    }
  }
}

/** obsolete_checksetup(): an early_param (already done) or a __setup handler took it. */
function obsolete_checksetup(param: string, val: string | null): boolean {
  let had_early_param = false;
  for (const p of setup_params) {
    if (p.str !== param) continue;
    if (p.early) had_early_param = true;
    else if (p.fn(val)) return true;
  }
  return had_early_param;
}

/** unknown_bootoption(). */
function unknown_bootoption(param: string, val: string | null): void {
  if (obsolete_checksetup(param, val)) return;
  const dot = param.indexOf('.');
  if (dot >= 0) {
    const mod = param.slice(0, dot);
    if (param_modules.has(mod)) {
      complaints.push({ level: 'warn', text: `${mod}: unknown parameter '${param.slice(dot + 1)}' ignored` });
    }
    return;
  }
  const word = val === null ? param : `${param}=${val}`;
  if (val === null) argv_init.push(word);
  else envp_init.push(word);
}

/** parse_args("Booting kernel", ...): every word up to "--"; returns the words after it. */
function parse_args(doing: string, words: ReturnType<typeof split_cmdline>): string[] {
  for (let i = 0; i < words.length; i++) {
    const { param, val } = words[i];
    if (param === '--' && val === null) {
      return words.slice(i + 1).map((w) => (w.val === null ? w.param : `${w.param}=${w.val}`));
    }
    const kp = kernel_params.find((p) => p.name === param);
    if (!kp) { unknown_bootoption(param, val); continue; }
    const err = val === null && !kp.ops.noarg ? -EINVAL : kp.ops.set(val, kp);
    if (err) complaints.push({ level: 'err', text: `${doing}: \`${val ?? ''}' invalid for parameter \`${param}'` });
  }
  return [];
}

/**
 * Take this boot's command line: restore every parameter's initial value, run the early
 * parameters, then parse_args with unknown_bootoption (nothing is printed yet).
 */
export function setup_boot_params(cmdline: string): void {
  saved_command_line = cmdline;
  complaints = [];
  argv_init = [];
  envp_init = [];
  for (const kp of kernel_params) kp.value = kp.def;
  for (const p of setup_params) p.reset?.();
  const words = split_cmdline(cmdline);
  parse_early_param(words);
  const after_dashes = parse_args('Booting kernel', words);
  unknown_options = [...argv_init, ...envp_init];
  argv_init.push(...after_dashes);
}

/** The complaints of parse_early_param and parse_args, in that order. */
export function print_early_param_warnings(): void {
  for (const c of complaints) (c.level === 'err' ? pr_err : pr_warn)(c.text);
}

/** print_unknown_bootoptions(): one line naming the parameters passed to user space. */
export function print_unknown_bootoptions(): void {
  if (unknown_options.length === 0) return;
  pr_notice(`Unknown kernel command line parameters "${unknown_options.join(' ')}", will be passed to user space.`);
}

/** init's arguments and environment from the command line (argv_init, envp_init). */
export function init_args(): { argv: readonly string[]; envp: readonly string[] } {
  return { argv: argv_init, envp: envp_init };
}

/** The command line as the boot loader passed it (/proc/cmdline). */
export function get_saved_command_line(): string { return saved_command_line; }
