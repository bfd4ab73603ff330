/**
 * The interactive prompt: node:readline with line editing when the input is a
 * terminal, history kept in a file across sessions, Tab completion of command names
 * and paths (tools/lib/complete.ts), a continuation prompt ("> ") while a quote, an
 * `if` or a `$(` is open, Ctrl-C to drop the line being typed, Ctrl-D (end of input)
 * to leave. Every line goes through the same parser and runner as -c, FILE and stdin
 * scripts.
 */
import * as fs from 'node:fs';
import * as readline from 'node:readline';
import { parseShell } from './sh/parse.js';
import { complete } from './lib/complete.js';
import { SHELL_NAME, STATUS_USAGE, type Shell } from './registry.js';

export interface InteractiveOptions {
  input: NodeJS.ReadableStream;
  /** Where prompts and (with a terminal) the echo of typed text go. */
  output: NodeJS.WritableStream;
  /** Line editing and history (needs a real terminal on both streams). */
  terminal: boolean;
  /** The prompt, asked again before every command (the user may change). */
  prompt(): string;
  /** Lines of history kept. Default 1000. */
  historySize?: number;
  /** File the history is read from and saved to (terminal only); none by default. */
  historyFile?: string;
}

/** History lines of a file, newest first as readline keeps them; [] if unreadable. */
export function loadHistory(file: string, size: number): string[] {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').slice(-size).reverse();
  } catch {
    return [];
  }
}

/** Save readline's history (newest first) to a file, oldest line first; errors ignored. */
export function saveHistory(file: string, history: readonly string[]): void {
  try {
    fs.writeFileSync(file, [...history].reverse().join('\n') + '\n', { mode: 0o600 });
  } catch {
    // A read-only home must not break the shell.
  }
}

export const CONTINUATION_PROMPT = '> ';

/** The usual prompts: `mktme# ` for root, `mktme$ ` for everyone else. */
export function promptFor(isRoot: boolean): string {
  return isRoot ? 'mktme# ' : 'mktme$ ';
}

/**
 * Read and run commands until end of input or a command stops the shell.
 * Resolves with the last status (sh semantics for `exit` and Ctrl-D alike).
 */
export function runInteractive<C>(shell: Shell<C>, opts: InteractiveOptions): Promise<number> {
  return new Promise((resolve) => {
    const historySize = opts.historySize ?? 1000;
    const historyFile = opts.terminal ? opts.historyFile : undefined;
    const rl = readline.createInterface({
      input: opts.input,
      output: opts.output,
      terminal: opts.terminal,
      historySize,
      history: historyFile ? loadHistory(historyFile, historySize) : [],
      removeHistoryDuplicates: true,
      prompt: '',
      completer: (line: string): [string[], string] =>
        complete(line, shell.commandNames(), shell.files),
    });
    if (historyFile) rl.on('history', (h: string[]) => saveHistory(historyFile, h));
    let pending: string | null = null; // text of an unfinished command (open quote)
    let stopped = false;

    const ask = (): void => {
      rl.setPrompt(pending === null ? safePrompt(opts.prompt) : CONTINUATION_PROMPT);
      rl.prompt();
    };

    rl.on('line', (line) => {
      if (stopped) return;
      const text = pending === null ? line : pending + '\n' + line;
      const parsed = parseShell(text);
      if (!parsed.ok && parsed.incomplete) {
        pending = text;
        ask();
        return;
      }
      pending = null;
      if (parsed.ok) {
        shell.runList(parsed.value);
      } else {
        shell.io.err(`${SHELL_NAME}: ${parsed.error}\n`);
        shell.lastStatus = STATUS_USAGE;
      }
      if (shell.exited) {
        stopped = true;
        rl.close();
        return;
      }
      ask();
    });

    rl.on('SIGINT', () => {
      // Like sh: drop what was typed (and any open quote), show a fresh prompt.
      pending = null;
      opts.output.write('^C\n');
      const editable = rl as unknown as { line: string; cursor: number };
      editable.line = '';
      editable.cursor = 0;
      shell.lastStatus = 130;
      ask();
    });

    rl.on('close', () => {
      if (!stopped) {
        stopped = true;
        if (pending !== null) {
          const parsed = parseShell(pending);
          shell.io.err(`${SHELL_NAME}: ${parsed.ok ? 'unexpected end of input' : parsed.error}\n`);
          shell.lastStatus = STATUS_USAGE;
        }
        if (opts.terminal) opts.output.write('\n'); // Ctrl-D leaves the cursor after the prompt
      }
      resolve(shell.lastStatus);
    });

    ask();
  });
}

/** A prompt callback that fails must not kill the shell. */
function safePrompt(prompt: () => string): string {
  try {
    return prompt();
  } catch {
    return '? ';
  }
}
