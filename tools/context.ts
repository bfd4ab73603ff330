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
import { suspend_set_ops } from '../kernel/power/suspend.js';
import { host_limit_error } from './lib/hostlimits.js';
import { hostErrorText, isHostError } from './lib/entry.js';
import type { ShellOptions } from './options.js';
import { CommandError, ShellExit, errorMessage, type ShellIo } from './registry.js';
import { parseCNumber } from './lib/parse.js';

/** The shell's one C-number parser (tools/lib/parse.ts), for the kernel commands. */
export { parseCNumber };

export interface KernelShellContext {
  /**
   * The emulated machine (the shell holds it the way a lab bench holds a board), or
   * null inside a guest: a guest's shell runs on virtual hardware, and the board's
   * instruments (DIMM probe, caches, counters) belong to whoever holds the host.
   */
  readonly machine: Machine | null;
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
  ctx.machine?.close();
}

// --- helpers shared by the kernel commands ---------------------------------------------

/**
 * The board, for the machine owner's instruments (dimm, cache, stat, suspend). Inside a
 * guest there is none to hold: "NAME: not available inside a guest (...)".
 */
export function board(ctx: KernelShellContext): Machine {
  if (!ctx.machine) {
    throw new CommandError('not available inside a guest (the machine belongs to the host; run it there)');
  }
  return ctx.machine;
}



export { getopt, type Getopt } from './lib/getopt.js';
