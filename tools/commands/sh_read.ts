/**
 * sh's `read [-r] NAME...` (POSIX XCU read): take one line of standard input, split it
 * on IFS, give each NAME a field and the last NAME the rest of the line. Without -r a
 * backslash quotes the next character and backslash-newline continues the line.
 * Status 0, or 1 at the end of input (the names still get what was there), so
 * `cmd | while read a b; do ...; done` works as in sh.
 *
 * The name is shared with the memory tool `read ADDR LEN` (read.ts): operands that are
 * all variable names mean this one; an address never is one.
 */
import { UsageError, type Command, type ShellApi, type ShellIo } from '../registry.js';
import { fromUtf8 } from '../lib/io.js';

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `read -r a b` or `read a`: sh's read (not the memory tool's ADDR LEN). */
export function isShellRead(args: readonly string[]): boolean {
  const names = args[0] === '-r' ? args.slice(1) : args;
  return names.length > 0 && names.every((n) => NAME_RE.test(n));
}

export function shellRead(args: readonly string[], io: ShellIo, sh: ShellApi<unknown>): number {
  const raw = args[0] === '-r';
  const names = raw ? args.slice(1) : [...args];
  let text = '';
  const quoted: boolean[] = []; // per character of text: escaped by a backslash
  let status = 0;
  for (;;) {
    const l = io.stdin?.line() ?? null;
    if (l === null) { status = 1; break; }
    const s = fromUtf8(l.text);
    if (raw) { text += s; quoted.push(...[...s].map(() => false)); if (!l.complete) status = 1; break; }
    let continued = false;
    for (let i = 0; i < s.length; i++) {
      if (s[i] === '\\') {
        if (i + 1 < s.length) { text += s[++i]; quoted.push(true); } else continued = l.complete;
        continue;
      }
      text += s[i];
      quoted.push(false);
    }
    if (!l.complete) { status = 1; break; }
    if (!continued) break;
  }
  const ifs = sh.getVar('IFS') ?? ' \t\n';
  const isWs = (i: number): boolean => !quoted[i] && ' \t\n'.includes(text[i]) && ifs.includes(text[i]);
  const isDelim = (i: number): boolean => !quoted[i] && ifs.includes(text[i]);
  let i = 0;
  while (i < text.length && isWs(i)) i++;
  names.forEach((name, n) => {
    if (n === names.length - 1) {
      let end = text.length;
      while (end > i && isWs(end - 1)) end--;
      sh.setVar(name, text.slice(i, end));
      i = text.length;
      return;
    }
    const start = i;
    while (i < text.length && !isDelim(i)) i++;
    sh.setVar(name, text.slice(start, i));
    // One delimiter: IFS white space around it, and at most one other IFS character.
    while (i < text.length && isWs(i)) i++;
    if (i < text.length && isDelim(i) && !isWs(i)) {
      i++;
      while (i < text.length && isWs(i)) i++;
    }
  });
  return status;
}

/**
 * `read` where there is no memory tool (any context): sh's read only. The kernel shell
 * registers read.ts instead, which answers both.
 */
export const shReadCommand: Command<unknown> = {
  name: 'read',
  usage: 'read [-r] NAME...',
  summary: 'read a line of standard input into variables',
  run(_ctx, args, io, sh) {
    if (!isShellRead(args)) throw new UsageError(args.length ? `'${args.find((a) => !NAME_RE.test(a) && a !== '-r')}': not a valid name` : 'missing NAME');
    return shellRead(args, io, sh);
  },
};
