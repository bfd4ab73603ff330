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
