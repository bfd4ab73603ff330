/**
 * `getopts OPTSTRING NAME [ARG...]` (XCU getopts), run by the runner, as dash 0.5.12's
 * getopts() in options.c does it, words and all:
 *
 *   while getopts "ab:" o; do case $o in a) ...;; b) echo "$OPTARG";; esac; done
 *   shift $((OPTIND - 1))
 *
 * Each call takes the next option from ARGs (default: the positional parameters) and
 * sets NAME to its letter, OPTARG to its argument ("" for one without), OPTIND to the
 * index of the next ARG. At the end (a non-option, `--`, no more ARGs) NAME is `?` and
 * the status 1. An unknown letter is "Illegal option -x" on stderr and a missing
 * argument "No arg for -b option", NAME `?` and OPTARG unset; with OPTSTRING starting
 * with `:` neither is written and NAME is `?` (or `:`) with OPTARG the letter. Where in
 * a word like `-ab` the last call stopped is kept here; assigning OPTIND (`OPTIND=1`)
 * starts over, as dash's getoptsreset does.
 */
import type { Frame } from './frame.js';
import type { ShellVars } from './vars.js';

/** What getopts needs of the runner. */
export interface GetoptsScope {
  readonly params: readonly string[];
  readonly vars: ShellVars;
}

/** dash's shellparam.optind and optoff, and the OPTIND it last wrote (to see a user's assignment). */
export class GetoptsState {
  ind = 1;
  off = -1;
  wrote: string | undefined = undefined;
}

const STATUS_USAGE = 2;

export function getoptsBuiltin(args: string[], f: Frame, scope: GetoptsScope, st: GetoptsState): number {
  if (args.length < 2) {
    f.err.write('getopts: Usage: getopts optstring var [arg...]\n');
    return STATUS_USAGE;
  }
  const [optstr, name] = args;
  const vars = scope.vars;
  const optind = vars.get('OPTIND');
  if (optind !== st.wrote) { // OPTIND assigned (or first use): start over from it
    st.ind = /^[0-9]+$/.test(optind ?? '') && Number(optind) > 0 ? Number(optind) : 1;
    st.off = -1;
  }
  const base = args.length > 2 ? args.slice(2) : scope.params;
  if (st.ind > base.length + 1) { st.ind = 1; st.off = -1; }

  // dash: optnext indexes base (0-based here, so optnext = ind - 1), p the rest of a word.
  let next = st.ind - 1;
  let word = -1; // the word p points into
  let pos = 0;
  if (st.ind > 1 && st.off >= 0 && base[next - 1] !== undefined && base[next - 1].length >= st.off) {
    word = next - 1;
    pos = st.off;
  }
  let c = '?';
  let done = false;
  const out = (): number => {
    st.ind = next + 1;
    st.wrote = String(st.ind);
    vars.set('OPTIND', st.wrote);
    vars.set(name, c);
    st.off = word >= 0 && !done ? pos : -1;
    return done ? 1 : 0;
  };
  if (word < 0 || pos >= base[word].length) { // the current word is done: the next one
    const w = base[next];
    if (w === undefined || w[0] !== '-' || w.length === 1 || w === '--') {
      if (w === '--') next++;
      done = true;
      word = -1;
      return out();
    }
    word = next++;
    pos = 1;
  }
  c = base[word][pos++];
  const at = c === ':' ? -1 : optstr.indexOf(c, optstr[0] === ':' ? 1 : 0);
  if (at < 0) {
    if (optstr[0] === ':') vars.set('OPTARG', c);
    else { f.err.write(`Illegal option -${c}\n`); vars.delete('OPTARG'); }
    c = '?';
    return out();
  }
  if (optstr[at + 1] === ':') {
    let arg: string | undefined;
    if (pos < base[word].length) arg = base[word].slice(pos);
    else if (base[next] !== undefined) arg = base[next++];
    if (arg === undefined) {
      if (optstr[0] === ':') { vars.set('OPTARG', c); c = ':'; }
      else { f.err.write(`No arg for -${c} option\n`); vars.delete('OPTARG'); c = '?'; }
      word = -1;
      return out();
    }
    vars.set('OPTARG', arg);
    word = -1;
  } else {
    vars.set('OPTARG', '');
  }
  return out();
}
