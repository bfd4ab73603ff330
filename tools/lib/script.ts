/**
 * The shell's word splitter: turns a script (a -c string, a file, stdin, or one line
 * typed at the prompt) into a list of commands, each an argv array.
 *
 * A small subset of POSIX sh quoting, with no expansion of any kind:
 * - Blanks (space, tab, CR) separate words; `;` and newline end a command. Empty
 *   commands (blank lines, `;;`) are dropped.
 * - `#` at the start of a word starts a comment that runs to the end of the line
 *   (`echo a#b` prints `a#b`, as in sh).
 * - '...' keeps everything literally, newlines included.
 * - "..." keeps everything literally except that a backslash escapes `"` and `\`, and
 *   backslash-newline is removed; any other backslash stays as it is.
 * - Outside quotes a backslash makes the next character literal; backslash-newline
 *   joins two lines.
 * - `''` and `""` make an empty word.
 * Unterminated quotes and a trailing backslash are errors; the error says which line
 * and whether more input could complete it (the prompt then asks for a continuation).
 */

export interface ScriptError {
  ok: false;
  error: string;
  /** 1-based line where the offending construct starts. */
  line: number;
  /** True when more text could complete the script (open quote, trailing backslash). */
  incomplete: boolean;
}

export type ScriptResult = { ok: true; value: string[][] } | ScriptError;

const BLANK = new Set([' ', '\t', '\r']);

/** Split `text` into commands. Never throws. */
export function parseScript(text: string): ScriptResult {
  const commands: string[][] = [];
  let argv: string[] = [];
  let word = '';
  let inWord = false; // a word has started (possibly empty, from quotes)
  let line = 1;
  let i = 0;

  const endWord = (): void => {
    if (inWord) argv.push(word);
    word = '';
    inWord = false;
  };
  const endCommand = (): void => {
    endWord();
    if (argv.length > 0) commands.push(argv);
    argv = [];
  };
  const unterminated = (what: string, at: number): ScriptError =>
    ({ ok: false, error: `unterminated ${what}`, line: at, incomplete: true });

  while (i < text.length) {
    const c = text[i];
    if (c === '\n') { endCommand(); line++; i++; continue; }
    if (BLANK.has(c)) { endWord(); i++; continue; }
    if (c === ';') { endCommand(); i++; continue; }
    if (c === '#' && !inWord) {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '\\') {
      if (i + 1 >= text.length) {
        return { ok: false, error: 'backslash at end of input', line, incomplete: true };
      }
      if (text[i + 1] === '\n') { line++; i += 2; continue; } // line continuation
      word += text[i + 1];
      inWord = true;
      i += 2;
      continue;
    }
    if (c === "'") {
      const start = line;
      const close = text.indexOf("'", i + 1);
      if (close < 0) return unterminated("single quote (')", start);
      const body = text.slice(i + 1, close);
      word += body;
      line += countNewlines(body);
      inWord = true;
      i = close + 1;
      continue;
    }
    if (c === '"') {
      const start = line;
      i++;
      inWord = true;
      for (;;) {
        if (i >= text.length) return unterminated('double quote (")', start);
        const d = text[i];
        if (d === '"') { i++; break; }
        if (d === '\\' && i + 1 < text.length) {
          const e = text[i + 1];
          if (e === '"' || e === '\\') { word += e; i += 2; continue; }
          if (e === '\n') { line++; i += 2; continue; }
        }
        if (d === '\n') line++;
        word += d;
        i++;
      }
      continue;
    }
    word += c;
    inWord = true;
    i++;
  }
  endCommand();
  return { ok: true, value: commands };
}

function countNewlines(s: string): number {
  let n = 0;
  for (const c of s) if (c === '\n') n++;
  return n;
}

/**
 * Quote one word so that parseScript reads it back unchanged: plain words stay as they
 * are, anything else goes in single quotes (with ' written as '\'').
 */
export function quoteWord(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
