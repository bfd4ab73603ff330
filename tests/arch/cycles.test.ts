/**
 * The tree has no import cycles: every non-test module of the kernel, the machine, the
 * shell and the benchmarks is evaluated after the modules it imports, so no module sees
 * another half-initialised (a registry filled at load time, such as the boot
 * parameters, depends on it). Type-only imports are erased by tsc and do not count.
 */
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { valueImportsOf } from '../lib/imports.js';
import { REPO_ROOT } from '../lib/paths.js';

const ROOT = REPO_ROOT;
const DIRS = ['arch', 'init', 'kernel', 'lib', 'mm', 'fs', 'drivers', 'virt', 'tools', 'bench'];

function sources(): string[] {
  return DIRS.flatMap((d) => {
    const abs = path.join(ROOT, d);
    if (!fs.existsSync(abs)) return [];
    return fs.readdirSync(abs, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
      .map((f) => path.join(abs, f));
  });
}

/** file -> the files it imports (relative specifiers resolved to .ts). */
export function importGraph(files: string[]): Map<string, string[]> {
  const known = new Set(files);
  const g = new Map<string, string[]>();
  for (const f of files) {
    const deps = valueImportsOf(f)
      .filter((s) => s.startsWith('.'))
      .map((s) => path.resolve(path.dirname(f), s).replace(/\.js$/, '.ts'))
      .filter((d) => known.has(d));
    g.set(f, [...new Set(deps)]);
  }
  return g;
}

/** The strongly connected components with more than one file (or a self-import): Tarjan. */
export function cycles(g: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index); low.set(v, index); index++;
    stack.push(v); on.add(v);
    for (const w of g.get(v) ?? []) {
      if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do { w = stack.pop()!; on.delete(w); scc.push(w); } while (w !== v);
      if (scc.length > 1 || (g.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of g.keys()) if (!idx.has(v)) visit(v);
  return out;
}

t.test('no import cycles in the tree', (t) => {
  const files = sources();
  t.ok(files.length > 100, `${files.length} modules read`);
  const found = cycles(importGraph(files)).map((c) => c.map((f) => path.relative(ROOT, f)));
  t.same(found, [], 'no group of modules imports itself');
  t.end();
});

t.test('type-only imports are not run-time edges', (t) => {
  const tmp = path.join(ROOT, 'tests/arch/.fixture-imports.ts');
  fs.writeFileSync(tmp, "import type { A } from './a.js';\nimport { type B } from './b.js';\n" +
    "import { type C, d } from './c.js';\nexport type { E } from './e.js';\nimport f, { type G } from './f.js';\n" +
    "export { h } from './h.js';\nconst i = await import('./i.js');\nimport './j.js';\n" +
    "let k: typeof import('./k.js');\n");
  try {
    t.same(valueImportsOf(tmp), ['./c.js', './f.js', './h.js', './i.js', './j.js']);
  } finally {
    fs.unlinkSync(tmp);
  }
  t.end();
});

t.test('the checker finds a cycle', (t) => {
  const g = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']], ['e', ['e']]]);
  t.same(cycles(g), [['a', 'b', 'c'], ['e']]);
  t.same(cycles(new Map([['a', ['b']], ['b', []]])), []);
  t.end();
});
