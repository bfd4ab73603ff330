/**
 * The command registry and the runner: how the shell finds a command by name, runs it,
 * and turns every way a command can end into an exit status and a one-line message.
 *
 *   returns N                 -> status N (0..255)
 *   throws UsageError         -> "NAME: message" (if any) + "usage: USAGE" on err, status 2
 *   throws CommandError       -> "NAME: message" on err, status 1
 *   throws ShellExit(N)       -> the shell stops after this command, status N
 *   throws anything else      -> "NAME: internal error: message" on err, status 1
 *                                (the host stack trace only when MKTME_DEBUG is set)
 *   name not registered       -> "sh: NAME: command not found", status 127
 *
 * The context type C is whatever the shell's host gives every command (machine, kernel,
 * current process); the registry and runner never look inside it. A script's status is
 * that of its last command; a failing command does not stop the script (as in sh).
 */
import { parseScript } from './lib/script.js';

/** Name the shell uses for its own messages. */
export const SHELL_NAME = 'sh';

export const STATUS_OK = 0;
export const STATUS_FAILURE = 1;
export const STATUS_USAGE = 2;
export const STATUS_NOT_FOUND = 127;

/** Where a command writes. Text is written as is: commands end their lines with '\n'. */
export interface ShellIo {
  out(s: string): void;
  err(s: string): void;
  /** Output goes to a terminal (commands may choose a friendlier layout). */
  isTty: boolean;
}

/** What the shell offers a command besides its context (help uses it). */
export interface ShellApi<C> {
  readonly registry: Registry<C>;
  /** Status of the previous command (sh's $?). */
  readonly lastStatus: number;
  /**
   * While set, every command line goes here instead of the registry (`vm console`
   * forwards the lines to a guest until its escape line clears it).
   */
  redirect: ((argv: readonly string[]) => number) | null;
}

export interface Command<C> {
  name: string;
  /** Synopsis starting with the name, e.g. "write ADDR BYTES". */
  usage: string;
  /** One line for `help`. */
  summary: string;
  /** Optional longer description, printed by `help NAME` after the usage. */
  help?: string;
  /** Run with args (argv without the name); return the exit status 0..255. */
  run(ctx: C, args: string[], io: ShellIo, sh: ShellApi<C>): number;
}

/** A wrong argument: the runner prints the message (if any) and the usage, status 2. */
export class UsageError extends Error {
  constructor(message = '') { super(message); this.name = 'UsageError'; }
}

/** The command could not do its job: the runner prints "NAME: message", status 1. */
export class CommandError extends Error {
  constructor(message: string) { super(message); this.name = 'CommandError'; }
}

/** Stop the shell once this command is done (exit, poweroff), with `status`. */
export class ShellExit extends Error {
  constructor(readonly status = 0) {
    super(`exit ${status}`);
    this.name = 'ShellExit';
  }
}

const NAME_RE = /^[a-z][a-z0-9_.-]*$/;

/** The set of commands the shell knows, by name. */
export class Registry<C> {
  private readonly byName = new Map<string, Command<C>>();

  constructor(commands: readonly Command<C>[] = []) {
    for (const c of commands) this.add(c);
  }

  /** Register a command. Throws (a programming error) on a bad or duplicate name. */
  add(cmd: Command<C>): void {
    if (!NAME_RE.test(cmd.name)) throw new Error(`registry: bad command name '${cmd.name}'`);
    if (this.byName.has(cmd.name)) throw new Error(`registry: duplicate command '${cmd.name}'`);
    if (cmd.usage !== cmd.name && !cmd.usage.startsWith(cmd.name + ' ')) {
      throw new Error(`registry: usage of '${cmd.name}' must start with its name`);
    }
    this.byName.set(cmd.name, cmd);
  }

  get(name: string): Command<C> | undefined {
    return this.byName.get(name);
  }

  /** All commands, sorted by name. */
  list(): Command<C>[] {
    return [...this.byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

export interface ShellOptions {
  /** Print host stack traces of internal errors. Default: env MKTME_DEBUG is set. */
  debug?: boolean;
}

/** Runs commands against one context, remembering the last status and whether to stop. */
export class Shell<C> implements ShellApi<C> {
  /** Status of the last command run. */
  lastStatus = STATUS_OK;
  /** A command asked the shell to stop (ShellExit); scripts stop running. */
  exited = false;
  redirect: ((argv: readonly string[]) => number) | null = null;
  readonly debug: boolean;

  /** `ctx` is public so the host may replace it (e.g. after a context switch). */
  constructor(readonly registry: Registry<C>, public ctx: C, readonly io: ShellIo, opts: ShellOptions = {}) {
    this.debug = opts.debug ?? Boolean(process.env.MKTME_DEBUG);
  }

  /** Run one command line already split into words. An empty argv changes nothing. */
  runCommand(argv: readonly string[]): number {
    if (argv.length === 0) return this.lastStatus;
    if (this.redirect) return (this.lastStatus = this.runRedirected(argv));
    const [name, ...args] = argv;
    const cmd = this.registry.get(name);
    if (!cmd) {
      this.io.err(`${SHELL_NAME}: ${name}: command not found\n`);
      return (this.lastStatus = STATUS_NOT_FOUND);
    }
    return (this.lastStatus = this.invoke(cmd, args));
  }

  /** Run commands in order until the list ends or one asks the shell to stop. */
  runCommands(commands: readonly (readonly string[])[]): number {
    for (const argv of commands) {
      if (this.exited) break;
      this.runCommand(argv);
    }
    return this.lastStatus;
  }

  /**
   * Split and run a script. A syntax error runs nothing: it prints
   * "sh: SOURCE: line N: message" and the status is 2.
   */
  runScript(text: string, source = '-c'): number {
    const parsed = parseScript(text);
    if (!parsed.ok) {
      this.io.err(`${SHELL_NAME}: ${source}: line ${parsed.line}: ${parsed.error}\n`);
      return (this.lastStatus = STATUS_USAGE);
    }
    return this.runCommands(parsed.value);
  }

  private runRedirected(argv: readonly string[]): number {
    const to = this.redirect!;
    try {
      return to(argv);
    } catch (e) {
      this.redirect = null;
      return this.report({ name: argv[0], usage: argv[0], summary: '', run: () => 0 }, e);
    }
  }

  private invoke(cmd: Command<C>, args: string[]): number {
    try {
      const status: unknown = cmd.run(this.ctx, args, this.io, this);
      if (typeof status !== 'number' || !Number.isInteger(status) || status < 0 || status > 255) {
        this.io.err(`${cmd.name}: internal error: bad exit status ${describe(status)}\n`);
        return STATUS_FAILURE;
      }
      return status;
    } catch (e) {
      return this.report(cmd, e);
    }
  }

  private report(cmd: Command<C>, e: unknown): number {
    if (e instanceof ShellExit) {
      this.exited = true;
      const s = e.status;
      return Number.isInteger(s) && s >= 0 && s <= 255 ? s : STATUS_FAILURE;
    }
    if (e instanceof UsageError) {
      if (e.message) this.io.err(`${cmd.name}: ${e.message}\n`);
      this.io.err(`usage: ${cmd.usage}\n`);
      return STATUS_USAGE;
    }
    if (e instanceof CommandError) {
      this.io.err(`${cmd.name}: ${e.message}\n`);
      return STATUS_FAILURE;
    }
    this.io.err(`${cmd.name}: internal error: ${errorMessage(e)}\n`);
    if (this.debug && e instanceof Error && typeof e.stack === 'string') this.io.err(e.stack + '\n');
    return STATUS_FAILURE;
  }
}

/** The message of anything thrown, without ever throwing itself. */
export function errorMessage(e: unknown): string {
  try {
    if (e instanceof Error) return e.message || e.name;
    return String(e);
  } catch {
    return 'unprintable exception';
  }
}

function describe(v: unknown): string {
  try { return typeof v === 'string' ? `'${v}'` : String(v); } catch { return typeof v; }
}
