/**
 * The special built-ins that give variables attributes (XCU 2.14), run by the runner:
 *
 * - `export [-p] [NAME[=VALUE]...]`: set each VALUE and mark NAME for export. Commands
 *   here are the shell's own and see every variable, so the mark changes only what
 *   `export -p` lists; scripts written for sh run unchanged.
 * - `readonly [-p] [NAME[=VALUE]...]`: set each VALUE, then no assignment, `read`,
 *   `for`, `local` or `unset` may change NAME: "NAME: is read only", status 2, and the
 *   script stops (XCU 2.8.1, a variable assignment error; tools/sh/vars.ts).
 *
 * Without NAMEs (or with -p) each lists its variables sorted, as dash does:
 * `export NAME='value'`, or `export NAME` for one marked but unset. A bad NAME is dash's
 * "bad variable name" and nothing is changed. After them a NAME=VALUE word is expanded as
 * an assignment is (no field splitting, no pathname expansion), as in dash 0.5.12.
 */
import { specialBuiltinError } from './control.js';
import type { Frame } from './frame.js';
import { NAME_RE } from './parse_compound.js';
import { singleQuote } from './quote.js';
import type { ShellVars } from './vars.js';


/** export or readonly (`which`) with `args`, over `vars`. */
export function declareBuiltin(which: 'export' | 'readonly', args: string[], f: Frame, vars: ShellVars): number {
  const marked = which === 'export' ? vars.exportNames : vars.readonlyNames;
  if (args[0] === '-p') args = args.slice(1);
  else if (args[0] === '--') args = args.slice(1);
  if (args.length === 0) {
    const names = [...marked].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    f.out.write(names.map((n) => {
      const v = vars.get(n);
      return v === undefined ? `${which} ${n}\n` : `${which} ${n}=${singleQuote(v)}\n`;
    }).join(''));
    return 0;
  }
  const decls = args.map((a) => {
    const eq = a.indexOf('=');
    return eq < 0 ? { name: a, value: undefined } : { name: a.slice(0, eq), value: a.slice(eq + 1) };
  });
  // All checked first: a bad name, or a value for a readonly one, changes nothing.
  const bad = decls.find((d) => !NAME_RE.test(d.name));
  if (bad) specialBuiltinError(f, `${which}: ${bad.name}: bad variable name\n`);
  const locked = decls.find((d) => d.value !== undefined && vars.readonlyNames.has(d.name));
  if (locked) specialBuiltinError(f, `${which}: ${locked.name}: is read only\n`);
  for (const d of decls) {
    if (d.value !== undefined) vars.set(d.name, d.value);
    marked.add(d.name);
  }
  return 0;
}
