/**
 * The shell's kernel wiring: what every command gets (KernelShellContext), how the
 * shell boots the machine and its kernel, reboots it (warm or cold) and powers it off,
 * plus small helpers the kernel commands share (errno text, C-style numbers, getopt).
 *
 * Kernel console lines go to the shell's stderr as they are printed, like a serial
 * console next to the terminal. Same options (seed included) -> same output.
 */
import { Machine } from '../arch/x86/hw/machine.js';
import { start_kernel } from '../init/main.js';
import { kernel_power_off, kernel_restart } from '../arch/x86/kernel/reboot.js';
import { suspend_set_ops } from '../kernel/power/main.js';
import { host_limit_error } from './lib/hostlimits.js';
import { hostErrorText, isHostError } from './lib/entry.js';
import type { ShellOptions } from './options.js';
import { CommandError, ShellExit, UsageError, errorMessage, type ShellIo } from './registry.js';

export interface KernelShellContext {
  /** The emulated machine (the shell holds it the way a lab bench holds a board). */
  readonly machine: Machine;
  readonly options: ShellOptions;
  /** The kernel command line every boot uses. */
  readonly cmdline: string;
  /** The process the shell's commands run as; 1 until the process layer sets it. */
  pid: number;
  /** The session's login shell, a child of init started after each boot (tools/shell.ts). */
  loginPid?: number;
  /** Kernels booted on this machine by this shell (1 after the first boot). */
  boots: number;
  /** Restart: warm = machine reset, cold = power cycle; then boot the kernel again. */
  reboot(cold: boolean): void;
  /** Power off and stop the shell (throws ShellExit). */
  poweroff(): never;
}

/** Hooks run after every kernel boot of the shell (e.g. the process layer sets pid). */
const bootHooks: ((ctx: KernelShellContext) => void)[] = [];

/** Register `fn` to run after each boot and reboot, in registration order. */
export function onKernelBoot(fn: (ctx: KernelShellContext) => void): void {
  if (!bootHooks.includes(fn)) bootHooks.push(fn);
}

/** Build the machine, boot the kernel on it, and return the context. Throws on panic. */
export function bootKernelShell(options: ShellOptions, io: ShellIo): KernelShellContext {
  const limit = host_limit_error(options.config);
  if (limit) throw new CommandError(limit);
  let machine: Machine;
  try {
    machine = new Machine(options.config);
  } catch (e) {
    // a host file that cannot be used (--nvram-file on a directory, no permission)
    if (isHostError(e)) throw new CommandError(`--nvram-file ${hostErrorText(e)}`);
    throw e;
  }
  for (const w of machine.biosWarnings) io.err(`${w}\n`);
  const consoleSink = (line: string): void => io.err(line + '\n');
  const boot = (): void => {
    start_kernel(machine.bootParams(options.cmdline), consoleSink);
    // the platform's S3 entry (ACPI's part): the machine sleeps and its BIOS resumes
    suspend_set_ops({
      enter(): void {
        machine.suspendResume();
        for (const w of machine.biosWarnings) io.err(`${w}\n`);
      },
    });
    ctx.pid = 1;
    ctx.boots++;
    for (const fn of bootHooks) fn(ctx);
  };
  const ctx: KernelShellContext = {
    machine,
    options,
    cmdline: options.cmdline,
    pid: 1,
    boots: 0,
    reboot(cold: boolean): void {
      kernel_restart();
      if (cold) machine.powerCycle(); else machine.reset();
      for (const w of machine.biosWarnings) io.err(`${w}\n`);
      try {
        boot();
      } catch (e) {
        throw new CommandError(errorMessage(e));
      }
    },
    poweroff(): never {
      kernel_power_off();
      throw new ShellExit(0);
    },
  };
  try {
    boot();
  } catch (e) {
    machine.close();
    throw e;
  }
  return ctx;
}

/** End of the shell: release host resources (the NVRAM file). */
export function shutdownKernelShell(ctx: KernelShellContext): void {
  ctx.machine.close();
}

// --- helpers shared by the kernel commands ---------------------------------------------


/**
 * A number as C's strtoull(s, NULL, 0) reads it, but strict: 0x hex, leading-0 octal,
 * or decimal, nothing after it. null if it is not one or exceeds `max`.
 */
export function parseCNumber(s: string, max: bigint = (1n << 64n) - 1n): bigint | null {
  let v: bigint;
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) v = BigInt('0x' + s.slice(2));
  else if (/^0[0-7]*$/.test(s)) v = s.length > 1 ? BigInt('0o' + s.slice(1)) : 0n;
  else if (/^[1-9][0-9]*$/.test(s)) v = BigInt(s);
  else return null;
  return v <= max ? v : null;
}

/** A CPU number argument, or a UsageError. */
export function parseCpuArg(s: string, what = 'CPU'): number {
  const v = parseCNumber(s, 0xffffn);
  if (v === null) throw new UsageError(`${what} must be a number, not '${s}'`);
  return Number(v);
}

export interface Getopt {
  /** Options seen, in order: [letter, argument or null]. */
  opts: [string, string | null][];
  /** Operands after the options. */
  rest: string[];
}

/**
 * POSIX getopt for short options: `spec` lists the letters, a ':' after a letter means
 * it takes an argument ("-p 1" or "-p1"). Options stop at "--" or the first operand.
 * An unknown option or a missing argument is a UsageError.
 */
export function getopt(args: readonly string[], spec: string): Getopt {
  const opts: [string, string | null][] = [];
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') { i++; break; }
    if (!a.startsWith('-') || a === '-' || /^-[0-9]/.test(a) && !spec.includes(a[1])) break;
    for (let j = 1; j < a.length; j++) {
      const letter = a[j];
      const at = spec.indexOf(letter);
      if (at < 0 || letter === ':') throw new UsageError(`invalid option -- '${letter}'`);
      if (spec[at + 1] === ':') {
        let arg = a.slice(j + 1);
        if (arg === '') {
          if (i + 1 >= args.length) throw new UsageError(`option requires an argument -- '${letter}'`);
          arg = args[++i];
        }
        opts.push([letter, arg]);
        break;
      }
      opts.push([letter, null]);
    }
  }
  return { opts, rest: args.slice(i) };
}
