/**
 * Reading a source file's imports as text, for the architecture tests (the import
 * boundary, no cycles).
 */
import * as fs from 'node:fs';

/** Every module specifier a file imports or re-exports (static and dynamic). */
export function importsOf(file: string): string[] {
  const src = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  const re = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g;
  for (let m = re.exec(src); m; m = re.exec(src)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

/**
 * The module specifiers a file needs at run time: static imports and re-exports less
 * the type-only ones (`import type`, braces holding only `type X` names, and
 * `typeof import('...')` in a type, which tsc erases), plus dynamic imports.
 */
export function valueImportsOf(file: string): string[] {
  const src = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  const re = /(import|export)(\s+type)?\s([^'"]*?)from\s*['"]([^'"]+)['"]|(?<!typeof\s+)import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g;
  for (let m = re.exec(src); m; m = re.exec(src)) {
    if (m[5] ?? m[6]) { out.push((m[5] ?? m[6])!); continue; }
    if (m[2]) continue;
    const braces = /\{([^}]*)\}/.exec(m[3]);
    const outside = m[3].replace(/\{[^}]*\}/, '').replace(/[\s,]/g, '');
    const names = braces ? braces[1].split(',').map((s) => s.trim()).filter(Boolean) : [];
    if (!outside && names.length > 0 && names.every((n) => n.startsWith('type '))) continue;
    out.push(m[4]);
  }
  return out;
}
