/**
 * The shell's main sequence, independent of what the commands act on: parse the
 * options, fetch the script (-c, FILE or stdin), boot the context through a callback,
 * run the script or the prompt, shut down, and return the exit status.
 *
 * Bad input changes nothing: option errors, an unreadable FILE and a script with a
 * syntax error are all reported before `boot` runs, so no machine is built and no
 * NVRAM file is created. tools/shell.ts supplies the real boot (machine + kernel) and
 * process streams; tests supply a dummy context and strings.
 */
import * as fs from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { parseOptions, type ShellOptions } from './options.js';
import { parseShell } from './sh/parse.js';
import { packageVersion } from './lib/version.js';
import type { List } from './sh/ast.js';
import type { ShellFiles } from './lib/files.js';
import { promptFor, runInteractive } from './repl.js';
import {
  CommandError, Registry, Shell, SHELL_NAME, STATUS_FAILURE, STATUS_NOT_FOUND, STATUS_OK, STATUS_USAGE,
  errorMessage, type Command, type ShellIo,
} from './registry.js';

export interface ShellMainDeps<C> {
  /** Arguments after the program name. */
  argv: readonly string[];
  io: ShellIo;
  /** Standard input: a stream (process.stdin) or, in tests, its whole text. */
  stdin: NodeJS.ReadableStream | string;
  /** Whether stdin is a terminal: without -c/FILE it picks the prompt over a script. */
  stdinIsTty: boolean;
  commands: readonly Command<C>[];
  /**
   * Build the context the commands run with (boot the machine and kernel). Throw
   * CommandError (or anything) to fail cleanly: "sh: boot: message", status 1.
   */
  /** `script` is the text of a -c, FILE or stdin script (null at the prompt). */
  boot(options: ShellOptions, io: ShellIo, script: string | null): C | Promise<C>;
  /** Prompt for interactive mode; default `mktme# `. Asked before every command. */
  prompt?(ctx: C): string;
  /** Called once after the last command (also after `exit`/poweroff and Ctrl-D). */
  shutdown?(ctx: C, status: number): void;
  /** Prompt/echo stream for interactive mode; default: writes through io.out. */
  promptOutput?: NodeJS.WritableStream;
  /** Line editing at the prompt; default: stdinIsTty and promptOutput is a TTY. */
  terminal?: boolean;
  /** Read a script FILE; default fs.readFileSync(path, 'utf8'). */
  readFile?(path: string): string;
  /** Host stack traces for internal errors; default env MKTME_DEBUG. */
  debug?: boolean;
  /** Files for redirections and FILE operands, as the context sees them; default the host's. */
  files?(ctx: () => C): ShellFiles;
  /** $$ of the shell; default the host process's pid. */
  pid?(ctx: C): number;
  /** Where interactive history is kept (tools/repl.ts); default none. */
  historyFile?: string;
  /** What --version prints after the name; default package.json's version. */
  version?: string;
}

/** Run the shell to completion; resolves with its exit status. Never rejects. */
export async function shellMain<C>(deps: ShellMainDeps<C>): Promise<number> {
  const { io } = deps;
  const parsedOpts = parseOptions(deps.argv, deps.stdinIsTty);
  if (parsedOpts.kind === 'version') {
    io.out(`shell (mktme-kernel) ${deps.version ?? packageVersion()}\n`);
    return STATUS_OK;
  }
  if (parsedOpts.kind === 'help') {
    io.out(parsedOpts.text);
    return STATUS_OK;
  }
  if (parsedOpts.kind === 'error') {
    io.err(`${SHELL_NAME}: ${parsedOpts.message}\n${parsedOpts.usage}`);
    return STATUS_USAGE;
  }
  const options = parsedOpts.options;
  const { mode } = options;

  // Everything the script needs, before anything is built.
  let commands: List | null = null;
  let scriptText: string | null = null;
  if (mode.kind !== 'interactive') {
    let text: string;
    let source: string;
    if (mode.kind === 'command') {
      text = mode.text;
      source = '-c';
    } else if (mode.kind === 'file') {
      source = mode.path;
      try {
        text = (deps.readFile ?? ((p: string) => fs.readFileSync(p, 'utf8')))(mode.path);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException | null)?.code;
        io.err(`${SHELL_NAME}: ${mode.path}: ${fileError(code, e)}\n`);
        return code === 'ENOENT' ? STATUS_NOT_FOUND : 126;
      }
    } else {
      source = 'stdin';
      try {
        text = await readAll(deps.stdin);
      } catch (e) {
        io.err(`${SHELL_NAME}: stdin: ${errorMessage(e)}\n`);
        return STATUS_FAILURE;
      }
    }
    const parsed = parseShell(text);
    if (!parsed.ok) {
      io.err(`${SHELL_NAME}: ${source}: line ${parsed.line}: ${parsed.error}\n`);
      return STATUS_USAGE;
    }
    commands = parsed.value;
    scriptText = text;
  }

  let registry: Registry<C>;
  let ctx: C;
  try {
    registry = new Registry(deps.commands);
    ctx = await deps.boot(options, io, scriptText);
  } catch (e) {
    const msg = errorMessage(e);
    io.err(`${SHELL_NAME}: boot: ${msg}\n`);
    if ((deps.debug ?? Boolean(process.env.MKTME_DEBUG)) && !(e instanceof CommandError) && e instanceof Error) {
      io.err(`${e.stack ?? ''}\n`);
    }
    return STATUS_FAILURE;
  }

  // The commands' standard input: the host's with -c and FILE; none when it carries
  // the script or belongs to the prompt.
  const stdin = mode.kind === 'command' || mode.kind === 'file' ? io.stdin : undefined;
  const shell: Shell<C> = new Shell(registry, ctx, io, {
    ...(deps.debug === undefined ? {} : { debug: deps.debug }),
    ...(deps.files ? { files: deps.files(() => shell.ctx) } : {}),
    ...(stdin ? { stdin } : {}),
    ...(deps.pid ? { pid: (): number => deps.pid!(shell.ctx) } : {}),
  });
  // A script FILE is $0 and its ARGs $1..., as in sh.
  if (mode.kind === 'file') shell.setArgs(mode.path, mode.args);
  let status: number;
  if (commands !== null) {
    status = shell.runList(commands);
  } else {
    const input = typeof deps.stdin === 'string' ? streamOf(deps.stdin) : deps.stdin;
    const output = deps.promptOutput ?? writerTo(io);
    const isTty = (output as { isTTY?: boolean }).isTTY === true;
    status = await runInteractive(shell, {
      input,
      output,
      terminal: deps.terminal ?? (deps.stdinIsTty && isTty),
      // While a command redirects the input (vm console), the other side prints the prompt.
      prompt: () => (shell.redirect ? '' : deps.prompt ? deps.prompt(shell.ctx) : promptFor(true)),
      ...(deps.historyFile ? { historyFile: deps.historyFile } : {}),
    });
  }

  status = shell.runExitTrap(status);
  if (deps.shutdown) {
    try {
      deps.shutdown(shell.ctx, status);
    } catch (e) {
      io.err(`${SHELL_NAME}: shutdown: ${errorMessage(e)}\n`);
      if (status === STATUS_OK) status = STATUS_FAILURE;
    }
  }
  return status;
}

/** All of a stream (or the string itself) as UTF-8 text. */
export async function readAll(input: NodeJS.ReadableStream | string): Promise<string> {
  if (typeof input === 'string') return input;
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function fileError(code: string | undefined, e: unknown): string {
  switch (code) {
    case 'ENOENT': return 'No such file or directory';
    case 'EISDIR': return 'Is a directory';
    case 'EACCES': return 'Permission denied';
    default: return errorMessage(e);
  }
}

/** A readable stream that yields `text` and ends (interactive mode in tests). */
function streamOf(text: string): NodeJS.ReadableStream {
  return Readable.from([text]);
}

function writerTo(io: ShellIo): NodeJS.WritableStream {
  return new Writable({
    write(chunk: Buffer | string, _enc, done) {
      io.out(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
      done();
    },
  });
}
