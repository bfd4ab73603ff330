/**
 * GNU getopt_long() as glibc implements it (posix/getopt.c), for tools whose real
 * counterparts parse options with it (msr-tools' rdmsr/wrmsr, util-linux): options and
 * operands may be mixed (argv is permuted, operands keep their order), `--` ends the
 * options, short options cluster (`-xp1`), long options take `=VALUE` or the next word
 * and may be abbreviated to any unambiguous prefix. Errors print glibc's words on
 * `err` and give `?`, as getopt_long() returns it.
 */

export interface LongOption {
  name: string;
  /** 0 no argument, 1 required. */
  has_arg: 0 | 1;
  /** The letter returned for it. */
  val: string;
}

export interface GetoptResult {
  /** [letter or '?', argument or null], in order. */
  opts: [string, string | null][];
  /** The operands, in order. */
  rest: string[];
}

/**
 * Parse `args` (argv without argv[0]) against `shortopts` ("hVp:"; a ':' after a
 * letter means it takes an argument) and `longopts`. Parsing stops at the first error,
 * as the tools here exit on it.
 */
export function getopt_long(prog: string, args: readonly string[], shortopts: string,
  longopts: readonly LongOption[], err: (s: string) => void): GetoptResult {
  const opts: [string, string | null][] = [];
  const rest: string[] = [];
  const fail = (msg: string): GetoptResult => {
    err(`${prog}: ${msg}\n`);
    opts.push(['?', null]);
    return { opts, rest };
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') { rest.push(...args.slice(i + 1)); break; }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq < 0 ? undefined : eq);
      const exact = longopts.find((o) => o.name === name);
      let o = exact;
      if (!o) {
        const cands = longopts.filter((c) => c.name.startsWith(name));
        const distinct = cands.filter((c, k) => cands.findIndex((d) => d.val === c.val && d.has_arg === c.has_arg) === k);
        if (distinct.length > 1) {
          return fail(`option '--${name}' is ambiguous; possibilities:${cands.map((c) => ` '--${c.name}'`).join('')}`);
        }
        o = cands[0];
      }
      if (!o) return fail(`unrecognized option '--${name}'`);
      if (o.has_arg === 0) {
        if (eq >= 0) return fail(`option '--${o.name}' doesn't allow an argument`);
        opts.push([o.val, null]);
      } else if (eq >= 0) {
        opts.push([o.val, a.slice(eq + 1)]);
      } else if (i + 1 < args.length) {
        opts.push([o.val, args[++i]]);
      } else {
        return fail(`option '--${o.name}' requires an argument`);
      }
      continue;
    }
    if (!a.startsWith('-') || a === '-') { rest.push(a); continue; }
    for (let j = 1; j < a.length; j++) {
      const letter = a[j];
      const at = letter === ':' ? -1 : shortopts.indexOf(letter);
      if (at < 0) return fail(`invalid option -- '${letter}'`);
      if (shortopts[at + 1] !== ':') { opts.push([letter, null]); continue; }
      let arg = a.slice(j + 1);
      if (arg === '') {
        if (i + 1 >= args.length) return fail(`option requires an argument -- '${letter}'`);
        arg = args[++i];
      }
      opts.push([letter, arg]);
      break;
    }
  }
  return { opts, rest };
}
