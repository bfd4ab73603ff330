/**
 * The runner's view of the shell it runs in (tools/registry.ts Shell implements it):
 * $?, the variables, the nesting counters, the files, and the way out to the commands.
 */
import type { ShellFiles } from '../lib/files.js';
import type { ShellIo } from '../lib/io.js';
import type { ShellVars } from './vars.js';

/** What the runner needs from the shell it runs in (tools/registry.ts Shell). */
export interface ShellState {
  lastStatus: number;
  readonly vars: ShellVars;
  /** Depth of subshells the runner is in. */
  subshells: number;
  /** Depth of loops the runner is in (break/continue check it). */
  loops: number;
  readonly files: ShellFiles;
  /** Run argv as a command; ShellExit and LoopControl pass through. */
  invoke(argv: string[], io: ShellIo): number;
  /** Every command goes elsewhere (tools/registry.ts Shell.redirect): no functions then. */
  readonly forwarding: boolean;
  /** Whether the registry has a command NAME. */
  hasCommand(name: string): boolean;
  /** $$ */
  pid(): number;
}
