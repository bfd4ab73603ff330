/**
 * Tab completion at the prompt: the word under the cursor is a command name where a
 * command starts (line start, after | ; && || ( `$(` and the reserved words that
 * precede a command), otherwise a path when it has a `/` in it (/proc and /sys through
 * the kernel, host paths otherwise). Returns readline's [candidates, word].
 */
import type { ShellFiles } from './files.js';

const BEFORE_COMMAND = new Set(['then', 'do', 'else', 'elif', 'if', 'while', 'until', '!', '{']);

export function complete(line: string, commands: readonly string[], files: ShellFiles): [string[], string] {
  const m = /[^\s|;&()<>`]*$/.exec(line)!;
  const word = m[0];
  const before = line.slice(0, line.length - word.length);
  if (word.includes('/')) return [completePath(word, files), word];
  const tokens = before.trimEnd().split(/\s+/);
  const prev = tokens[tokens.length - 1] ?? '';
  const commandPosition = before.trim() === '' || /(\||;|&&|\(|`|\$\()\s*$/.test(before) || BEFORE_COMMAND.has(prev);
  if (!commandPosition) return [[], word];
  return [commands.filter((c) => c.startsWith(word)), word];
}

function completePath(word: string, files: ShellFiles): string[] {
  const slash = word.lastIndexOf('/');
  const dir = word.slice(0, slash + 1);
  const prefix = word.slice(slash + 1);
  const names = files.list(dir === '' ? '.' : dir.length > 1 ? dir.slice(0, -1) : '/');
  return names
    .filter((n) => n.startsWith(prefix) && (prefix.startsWith('.') || !n.startsWith('.')))
    .sort()
    .map((n) => dir + n + (files.stat(dir + n)?.kind === 'dir' ? '/' : ''));
}
