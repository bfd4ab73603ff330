/**
 * POSIX getopt(3) for the commands' short options (XBD 12.2 Utility Syntax Guidelines).
 */
import { UsageError } from '../registry.js';

export interface Getopt {
  /** Options seen, in order: [letter, argument or null]. */
  opts: [string, string | null][];
  /** Operands after the options. */
  rest: string[];
}

/**
 * POSIX getopt for short options: `spec` lists the letters, a ':' after a letter means
 * it takes an argument ("-p 1" or "-p1"). Options stop at "--" or the first operand.
 * An unknown option or a missing argument is a UsageError.
 */
export function getopt(args: readonly string[], spec: string): Getopt {
  const opts: [string, string | null][] = [];
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') { i++; break; }
    if (!a.startsWith('-') || a === '-' || /^-[0-9]/.test(a) && !spec.includes(a[1])) break;
    for (let j = 1; j < a.length; j++) {
      const letter = a[j];
      const at = spec.indexOf(letter);
      if (at < 0 || letter === ':') throw new UsageError(`invalid option -- '${letter}'`);
      if (spec[at + 1] === ':') {
        let arg = a.slice(j + 1);
        if (arg === '') {
          if (i + 1 >= args.length) throw new UsageError(`option requires an argument -- '${letter}'`);
          arg = args[++i];
        }
        opts.push([letter, arg]);
        break;
      }
      opts.push([letter, null]);
    }
  }
  return { opts, rest: args.slice(i) };
}
