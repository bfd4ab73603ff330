/**
 * The command registry and the shell that runs scripts with it: how the shell finds a
 * command by name, runs it, and turns every way a command can end into an exit status
 * and a one-line message.
 *
 *   returns N                 -> status N (0..255)
 *   throws UsageError         -> "NAME: message" (if any) + "usage: USAGE" on err, status 2
 *   throws CommandError       -> "NAME: message" on err, status 1
 *   a redirected write fails  -> "NAME: write error: reason", status 1
 *   throws ShellExit(N)       -> the shell (or the subshell) stops after this command
 *                                (so do FunctionReturn and ShellAbort: tools/sh/control.ts)
 *   throws anything else      -> "NAME: internal error: message" on err, status 1
 *                                (the host stack trace only when MKTME_DEBUG is set)
 *   name not registered       -> "sh: NAME: command not found", status 127
 *
 * The context type C is whatever the shell's host gives every command (machine, kernel,
 * current process); the registry and the shell never look inside it. Scripts are
 * parsed by tools/sh/parse.ts and run by tools/sh/interp.ts; as in sh, a failing
 * command does not stop a script and its status is that of its last command.
 */
import { parseShell } from './sh/parse.js';
import { Runner, frameOf, type ShellState } from './sh/interp.js';
import { FunctionReturn, LoopControl, ShellAbort, ShellExit, isStackOverflow } from './sh/control.js';
import { RUNNER_BUILTINS, SPECIAL_BUILTINS } from './sh/builtins.js';
import { ReadonlyError, ShellVars } from './sh/vars.js';
import { WriteError, hostFiles, type ShellFiles } from './lib/files.js';
import type { List } from './sh/ast.js';
import type { ShellInput, ShellIo } from './lib/io.js';

export { LoopControl, ShellExit } from './sh/control.js';
export type { ShellIo } from './lib/io.js';

/** Name the shell uses for its own messages. */
export const SHELL_NAME = 'sh';

export const STATUS_OK = 0;
export const STATUS_FAILURE = 1;
export const STATUS_USAGE = 2;
export const STATUS_NOT_FOUND = 127;

/** What the shell offers a command besides its context (help uses it). */
export interface ShellApi<C> {
  readonly registry: Registry<C>;
  /** Status of the previous command (sh's $?). */
  readonly lastStatus: number;
  /** Inside $(...), ( ) or a pipeline stage: `exit` leaves only that subshell. */
  readonly inSubshell: boolean;
  /** Loops enclosing the command (break and continue need one). */
  readonly loopDepth: number;
  /** Shell variables. */
  getVar(name: string): string | undefined;
  setVar(name: string, value: string): void;
  unsetVar(name: string): void;
  /** Files for FILE operands: the host's, with the kernel's /proc and /sys over them. */
  readonly files: ShellFiles;
  /**
   * While set, every simple command goes here, expanded, instead of the registry
   * (`vm console` forwards them to a guest's console until its escape line clears it).
   */
  redirect: ((argv: readonly string[], io: ShellIo) => number) | null;
  /** The built-ins the runner runs itself (set, shift, return, ., eval, local), by name. */
  readonly builtins: readonly BuiltinInfo[];
  /** The functions defined in the shell, sorted. */
  functionNames(): string[];
  /** Forget function NAME (`unset -f`); nothing if there is none. */
  unsetFunction(name: string): void;
}

/** What help says of one of the runner's built-ins (tools/sh/builtins.ts). */
export interface BuiltinInfo { name: string; usage: string; summary: string; help?: string }

const BUILTINS: readonly BuiltinInfo[] = [...RUNNER_BUILTINS].map(([name, b]) => ({ name, usage: b.usage, summary: b.summary }));

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

/** Command names: lower-case words, plus sh's `[` and `:`. */
const NAME_RE = /^(?:[a-z][a-z0-9_.-]*|\[|:)$/;

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
  /** Files for redirections and FILE operands. Default: the host's. */
  files?: ShellFiles;
  /** Standard input of the commands (not the script). Default: empty. */
  stdin?: ShellInput;
  /** $$. Default: the host process's pid. */
  pid?(): number;
}

/** Runs commands and scripts against one context, with the shell's variables and status. */
export class Shell<C> implements ShellApi<C>, ShellState {
  /** Status of the last command run. */
  lastStatus = STATUS_OK;
  /** A command asked the shell to stop (ShellExit); scripts stop running. */
  exited = false;
  redirect: ((argv: readonly string[], io: ShellIo) => number) | null = null;
  readonly debug: boolean;
  readonly files: ShellFiles;
  readonly vars = new ShellVars();
  subshells = 0;
  loops = 0;
  private readonly runner = new Runner(this);
  private readonly stdin: ShellInput | undefined;
  private readonly pidOf: () => number;

  /** `ctx` is public so the host may replace it (e.g. after a context switch). */
  constructor(readonly registry: Registry<C>, public ctx: C, readonly io: ShellIo, opts: ShellOptions = {}) {
    this.debug = opts.debug ?? Boolean(process.env.MKTME_DEBUG);
    this.files = opts.files ?? hostFiles;
    this.stdin = opts.stdin;
    this.pidOf = opts.pid ?? (() => process.pid);
  }

  get inSubshell(): boolean { return this.subshells > 0; }
  get forwarding(): boolean { return this.redirect !== null; }
  get loopDepth(): number { return this.loops; }
  getVar(name: string): string | undefined { return this.vars.get(name); }
  setVar(name: string, value: string): void { this.vars.set(name, value); }
  unsetVar(name: string): void { this.vars.delete(name); }
  pid(): number { return this.pidOf(); }
  get builtins(): readonly BuiltinInfo[] { return BUILTINS; }
  functionNames(): string[] { return this.runner.functionNames(); }
  hasCommand(name: string): boolean { return this.registry.get(name) !== undefined; }
  unsetFunction(name: string): void { this.runner.unsetFunction(name); }

  /** Every command name a line may start with: the registry's, the runner's built-ins, the functions defined (Tab completion). */
  commandNames(): string[] {
    return [...new Set([...this.registry.list(), ...BUILTINS].map((c) => c.name).concat(this.functionNames()))].sort();
  }

  /** Set $0 and the positional parameters $1... (a script FILE's name, `set --`). */
  setArgs(arg0: string, params: readonly string[]): void {
    this.runner.arg0 = arg0;
    this.runner.params = [...params];
  }

  /** Run one command already split into words (no expansion). An empty argv changes nothing. */
  runCommand(argv: readonly string[]): number {
    if (argv.length === 0) return this.lastStatus;
    return this.guard(() => (this.lastStatus = this.invoke([...argv], this.io)));
  }

  /** Run a parsed script until it ends or a command stops the shell. */
  runList(list: List): number {
    if (this.exited) return this.lastStatus;
    return this.guard(() => this.runner.list(list, frameOf(this.io, this.stdin)));
  }

  /** The shell ends with `status`: its EXIT trap runs (tools/sh/trap.ts); the status it ends with. */
  runExitTrap(status: number): number {
    return this.guard(() => this.runner.exitTrap(status, frameOf(this.io, this.stdin)));
  }

  /**
   * Parse and run a script. A syntax error runs nothing: it prints
   * "sh: SOURCE: line N: message" and the status is 2.
   */
  runScript(text: string, source = '-c'): number {
    const parsed = parseShell(text);
    if (!parsed.ok) {
      this.io.err(`${SHELL_NAME}: ${source}: line ${parsed.line}: ${parsed.error}\n`);
      return (this.lastStatus = STATUS_USAGE);
    }
    return this.runList(parsed.value);
  }

  /** Run argv as a command with `io` (the runner calls this for every simple command). */
  invoke(argv: string[], io: ShellIo): number {
    if (this.redirect) return this.runRedirected(this.redirect, argv, io);
    const [name, ...args] = argv;
    const cmd = this.registry.get(name);
    if (!cmd) {
      io.err(`${SHELL_NAME}: ${name}: command not found\n`);
      return STATUS_NOT_FOUND;
    }
    try {
      const status: unknown = cmd.run(this.ctx, args, io, this);
      if (typeof status !== 'number' || !Number.isInteger(status) || status < 0 || status > 255) {
        io.err(`${cmd.name}: internal error: bad exit status ${describe(status)}\n`);
        return STATUS_FAILURE;
      }
      return status;
    } catch (e) {
      return this.report(cmd, e, io);
    }
  }

  /** The end of the shell (ShellExit) and stray loop control, at the top level. */
  private guard(fn: () => number): number {
    try {
      return fn();
    } catch (e) {
      if (e instanceof ShellExit) {
        this.exited = e.scope === 'shell' || this.subshells === 0;
        const s = e.status;
        return (this.lastStatus = Number.isInteger(s) && s >= 0 && s <= 255 ? s : STATUS_FAILURE);
      }
      if (e instanceof LoopControl) return this.lastStatus;
      // `return` outside a function, a runaway recursion: what was running stops.
      if (e instanceof FunctionReturn) return (this.lastStatus = e.status);
      if (e instanceof ShellAbort) return (this.lastStatus = e.status);
      // Commands nested so deep (a thousand `( )`) that running them used up the host's stack.
      if (isStackOverflow(e)) {
        this.io.err(`${SHELL_NAME}: commands nested too deeply for the host's stack\n`);
        return (this.lastStatus = STATUS_USAGE);
      }
      throw e;
    }
  }

  private runRedirected(to: (argv: readonly string[], io: ShellIo) => number, argv: string[], io: ShellIo): number {
    try {
      return to(argv, io);
    } catch (e) {
      this.redirect = null;
      return this.report({ name: argv[0], usage: argv[0], summary: '', run: () => 0 }, e, io);
    }
  }

  private report(cmd: Command<C>, e: unknown, io: ShellIo): number {
    if (e instanceof ShellExit || e instanceof LoopControl || e instanceof FunctionReturn || e instanceof ShellAbort) throw e;
    if (e instanceof ReadonlyError) { // `read NAME`, `unset NAME`: a variable assignment error (XCU 2.8.1)
      io.err(`${cmd.name}: ${e.message}\n`);
      throw new ShellAbort(STATUS_USAGE);
    }
    if (e instanceof UsageError) {
      if (e.message) io.err(`${cmd.name}: ${e.message}\n`);
      io.err(`usage: ${cmd.usage}\n`);
      // A special built-in's error stops what the shell runs (XCU 2.8.1; tools/sh/builtins.ts).
      if (SPECIAL_BUILTINS.has(cmd.name)) throw new ShellAbort(STATUS_USAGE);
      return STATUS_USAGE;
    }
    if (e instanceof CommandError) {
      io.err(`${cmd.name}: ${e.message}\n`);
      return STATUS_FAILURE;
    }
    if (e instanceof WriteError) {
      // Its output went to a file (a redirection) that refused it, as coreutils says.
      io.err(`${cmd.name}: write error: ${e.message}\n`);
      return STATUS_FAILURE;
    }
    io.err(`${cmd.name}: internal error: ${errorMessage(e)}\n`);
    if (this.debug && e instanceof Error && typeof e.stack === 'string') io.err(e.stack + '\n');
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
