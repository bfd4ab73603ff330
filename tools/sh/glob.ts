/**
 * Pathname expansion (XCU 2.6.6): an unquoted `*`, `?` or bracket expression in a field
 * makes it a pattern (XCU 2.13) that is replaced by the pathnames it matches, sorted in
 * the C locale's byte order; a pattern that matches nothing is left as it was.
 *
 * XCU 2.13.3: `/` is matched only by a `/` in the pattern, never by a wildcard or a
 * bracket expression, and a name starting with `.` only by a pattern starting with a
 * literal `.` (`.` and `..` themselves are never produced: the directory listings hold
 * neither). Directories are listed through the shell's files (tools/lib/files.ts): the
 * host's relative to the working directory, and in the kernel shell the kernel's
 * /proc, /sys and /dev as its process sees them; one that cannot be listed matches
 * nothing.
 */
import type { ShellFiles } from '../lib/files.js';
import { compilePattern, type PatternText } from './pattern.js';

export type GlobFiles = Pick<ShellFiles, 'list' | 'stat'>;

/** Split pattern text at unquoted and quoted slashes alike (a path is a path). */
function components(pieces: readonly PatternText[]): PatternText[][] {
  const out: PatternText[][] = [[]];
  for (const p of pieces) {
    const parts = p.text.split('/');
    parts.forEach((text, i) => {
      if (i > 0) out.push([]);
      if (text !== '') out[out.length - 1].push({ text, quoted: p.quoted });
    });
  }
  return out;
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * The pathnames `pieces` matches, sorted; null when it is no pattern (nothing unquoted
 * is special) or matches nothing, so the caller keeps the field as it is.
 */
export function expandPathname(pieces: readonly PatternText[], files: GlobFiles): string[] | null {
  if (!compilePattern(pieces).magic) return null;
  const comps = components(pieces);
  const absolute = comps[0].length === 0 && comps.length > 1;
  const root = absolute ? '/' : '';
  // Drop the empty components of a leading '/', of '//' and of a trailing '/'.
  const trailingSlash = comps.length > 1 && comps[comps.length - 1].length === 0;
  const steps = comps.filter((c) => c.length > 0);
  const join = (base: string, name: string): string => (base === '' ? root + name : base + '/' + name);
  let paths: string[] = [''];
  steps.forEach((step, n) => {
    const pat = compilePattern(step);
    const last = n === steps.length - 1;
    const next: string[] = [];
    for (const base of paths) {
      if (!pat.magic) {
        const path = join(base, pat.literal);
        // A literal step needs no listing; whether it exists is asked once, at the end.
        if (!last || files.stat(path) !== null) next.push(path);
        continue;
      }
      const dir = base === '' ? (root || '.') : base;
      const dotOk = step[0].text.startsWith('.');
      for (const name of files.list(dir)) {
        if (name.startsWith('.') && !dotOk) continue;
        if (pat.matches(name)) next.push(join(base, name));
      }
    }
    paths = next;
  });
  if (trailingSlash) paths = paths.filter((p) => files.stat(p)?.kind === 'dir').map((p) => p + '/');
  if (paths.length === 0) return null;
  return paths.sort(byteOrder);
}
