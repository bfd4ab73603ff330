/**
 * Every command the shell knows. To add one: write tools/commands/NAME.ts exporting a
 * Command, import it here and list it in `commands` if it works with any context, or
 * in `shellCommands` if it needs the kernel shell's context (filters go in
 * filters/index.ts) (the registry sorts them
 * for help). The shell (tools/shell.ts) runs `shellCommands`.
 */
import type { Command } from '../registry.js';
import type { KernelShellContext } from '../context.js';
import { catCommand } from './cat.js';
import { cpuidCommand } from './cpuid.js';
import { dimmCommand } from './dimm.js';
import { dmesgCommand } from './dmesg.js';
import { echoCommand } from './echo.js';
import { exitCommand } from './exit.js';
import { helpCommand } from './help.js';
import { lsCommand } from './ls.js';
import { pconfigCommand } from './pconfig.js';
import { poweroffCommand } from './poweroff.js';
import { rdmsrCommand } from './rdmsr.js';
import { rebootCommand } from './reboot.js';
import { statCommand } from './stat.js';
import { syncCommand } from './sync.js';
import { wrmsrCommand } from './wrmsr.js';
import { psCommand } from './ps.js';
import { forkCommand } from './fork.js';
import { switchCommand } from './switch.js';
import { tasksetCommand } from './taskset.js';
import { suCommand } from './su.js';
import { mmapCommand } from './mmap.js';
import { munmapCommand } from './munmap.js';
import { mprotectCommand } from './mprotect.js';
import { encryptMprotectCommand } from './encrypt_mprotect.js';
import { writeCommand } from './write.js';
import { readCommand } from './read.js';
import { pagemapCommand } from './pagemap.js';
import { devmemCommand } from './devmem.js';
import { memmapCommand } from './memmap.js';
import { keyctlCommand } from './keyctl.js';
import { cacheCommand } from './cache.js';
import { suspendCommand } from './suspend.js';
import { lspciCommand } from './lspci.js';
import { blkCommand } from './blk.js';
import { kernel_entry } from '../lib/entry.js';
import { vmCommand } from './vm.js';
import { colonCommand, falseCommand, trueCommand } from './true.js';
import { breakCommand, continueCommand } from './break.js';
import { unsetCommand } from './unset.js';
import { printfCommand } from './printf.js';
import { bracketCommand, testCmd } from './test.js';
import { sleepCommand } from './sleep.js';
import { filterCommands } from './filters/index.js';
import { shReadCommand } from './sh_read.js';
import { perfCommands } from './perf.js';

/**
 * The context every command runs with: the machine, the booted kernel's shell state
 * (tools/context.ts). Generic commands (help, echo, exit) accept any context.
 */
export type ShellContext = KernelShellContext;

/** Generic commands: they work with any context (the tools tests run them on dummies). */
export const commands: readonly Command<unknown>[] = [
  helpCommand,
  echoCommand,
  exitCommand,
  trueCommand,
  falseCommand,
  colonCommand,
  breakCommand,
  continueCommand,
  unsetCommand,
  printfCommand,
  testCmd,
  bracketCommand,
  catCommand,
  shReadCommand,
  ...filterCommands,
];

/**
 * Everything the kernel shell offers: the generic commands plus the kernel's, each
 * behind the kernel boundary (tools/lib/entry.ts: an oops kills the process, not the
 * shell).
 */
export const shellCommands: readonly Command<ShellContext>[] = [
  // read.ts is both sh's read and the memory tool.
  ...commands.filter((c) => c !== shReadCommand),
  ...[
  keyctlCommand,
  cacheCommand,
  suspendCommand,
  vmCommand,
  sleepCommand,
  cpuidCommand,
  dimmCommand,
  dmesgCommand,
  lsCommand,
  pconfigCommand,
  poweroffCommand,
  rdmsrCommand,
  rebootCommand,
  statCommand,
  syncCommand,
  wrmsrCommand,
  psCommand,
  forkCommand,
  switchCommand,
  tasksetCommand,
  suCommand,
  mmapCommand,
  munmapCommand,
  mprotectCommand,
  encryptMprotectCommand,
  writeCommand,
  readCommand,
  pagemapCommand,
  devmemCommand,
  memmapCommand,
  lspciCommand,
  blkCommand,
  ...perfCommands,
  ].map(kernel_entry),
];
