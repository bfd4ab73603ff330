/**
 * Every command the shell knows. To add one: write tools/commands/NAME.ts exporting a
 * Command, import it here and list it in `commands` (the registry sorts them for help).
 */
import type { Command } from '../registry.js';
import { echoCommand } from './echo.js';
import { exitCommand } from './exit.js';
import { helpCommand } from './help.js';

/**
 * The context every command runs with. Generic commands (help, echo, exit) accept any
 * context; replace `unknown` by the kernel's shell context type once it exists.
 */
export type ShellContext = unknown;

export const commands: readonly Command<ShellContext>[] = [
  helpCommand,
  echoCommand,
  exitCommand,
];
