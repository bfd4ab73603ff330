/**
 * The interactive prompt: node:readline with line editing and in-memory history when
 * the input is a terminal, a continuation prompt ("> ") while a quote is open, Ctrl-C
 * to drop the line being typed, Ctrl-D (end of input) to leave. Every line goes through
 * the same word splitter and runner as -c, FILE and stdin scripts.
 */
import * as readline from 'node:readline';
import { parseShell } from './sh/parse.js';
import { SHELL_NAME, STATUS_USAGE, type Shell } from './registry.js';

export interface InteractiveOptions {
  input: NodeJS.ReadableStream;
  /** Where prompts and (with a terminal) the echo of typed text go. */
  output: NodeJS.WritableStream;
  /** Line editing and history (needs a real terminal on both streams). */
  terminal: boolean;
  /** The prompt, asked again before every command (the user may change). */
  prompt(): string;
  /** Lines of history kept in memory. Default 1000. */
  historySize?: number;
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
    const rl = readline.createInterface({
      input: opts.input,
      output: opts.output,
      terminal: opts.terminal,
      historySize: opts.historySize ?? 1000,
      removeHistoryDuplicates: true,
      prompt: '',
    });
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
