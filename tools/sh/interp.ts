/**
 * The shell's runner: executes the syntax tree of tools/sh/ast.ts as sh does (XCU 2.9).
 *
 * - A pipeline runs its stages in turn, each stage's output collected and given whole
 *   to the next as its standard input (the commands are synchronous programs on a
 *   deterministic machine, so this is what concurrent stages would compute). The status
 *   is the last stage's; `!` inverts it.
 * - Subshells, as in sh: every stage of a multi-stage pipeline, $(...) and ( list ).
 *   Variables set there do not survive it and `exit` leaves only it. What the commands
 *   do to the kernel (a mapping, a key) does survive: the shell's commands all run as
 *   the shell's process, which is what makes `a=$(mmap 4K)` useful.
 * - Redirections, left to right: `> F` and `>> F` open host files (relative to the
 *   working directory), `< F` reads one, `2>&1` / `>&2` duplicate.
 * - `k=v` alone sets a shell variable; `k=v cmd` sets it for that command only.
 * - A command name is looked up as XCU 2.9.1.1 says: special built-ins first (set, shift,
 *   return, `.`, eval and dash's local are the runner's own, tools/sh/builtins.ts; the
 *   others the registry's), then functions (XCU 2.9.5), then the registry's commands. A
 *   function runs in the current shell with its arguments as the positional parameters,
 *   restored on return, and its `local` variables (tools/sh/locals.ts). Calls, dot
 *   scripts and evals nest at most MAX_FUNCTION_DEPTH deep (then the script stops, 2).
 * - Here-documents (XCU 2.7.4) are the standard input of their command.
 */
import type { AndOr, CaseCommand, Command, FunctionCommand, List, Pipeline, Redirect, SimpleCommand } from './ast.js';
import { ExpansionError, expandFields, expandPattern, expandString, type ExpandEnv } from './expand.js';
import { FunctionReturn, LoopControl, Nesting, ShellAbort, ShellExit } from './control.js';
import { RUNNER_BUILTINS, SPECIAL_BUILTINS, expandArgs, type Scope } from './builtins.js';
import { Locals, type LocalState } from './locals.js';
import { withRedirects, type RedirectScope } from './redirect.js';
import { Errexit } from './errexit.js';
import type { ShellVars } from './vars.js';
import type { ShellState } from './state.js';
import type { Found } from './lookup.js';
import { RESERVED } from './parse_compound.js';
import { runExitAction } from './trap.js';
import { GetoptsState } from './getopts.js';
import type { ShellFiles } from '../lib/files.js';
import { fromUtf8, inputOf } from '../lib/io.js';
import { PipeBuffer, ioOf, type Frame } from './frame.js';

export { frameOf, type Frame, type Sink } from './frame.js';

export type { ShellState } from './state.js';

const STATUS_EXPANSION_FAILED = 2;

export class Runner implements Scope {
  /** $0 and the positional parameters (XCU 2.5.1, 2.5.2). */
  arg0 = 'sh';
  params: string[] = [];
  /** The `set` options on, as $- shows them: e errexit, f noglob, u nounset, x xtrace (builtins.ts set). */
  options = '';
  /** Where `set -e` applies (errexit.ts). */
  private readonly errexitScope = new Errexit();
  /** Where the last `getopts` stopped (tools/sh/getopts.ts). */
  readonly getopts = new GetoptsState();
  /** `trap`: the action for each condition, by number (0: EXIT; tools/sh/trap.ts). */
  traps = new Map<number, string>();
  get noglob(): boolean { return this.options.includes('f'); }
  private readonly functions = new Map<string, FunctionCommand>();
  private readonly nesting = new Nesting();
  private readonly locals = new Locals();
  private readonly localState: LocalState;

  constructor(private readonly st: ShellState) {
    const runner = this;
    this.localState = { vars: st.vars, get options() { return runner.options; }, set options(v) { runner.options = v; } };
  }

  /** The functions defined, sorted. */
  functionNames(): string[] { return [...this.functions.keys()].sort(); }
  unsetFunction(name: string): void { this.functions.delete(name); }

  get vars(): ShellVars { return this.st.vars; }
  get lastStatus(): number { return this.st.lastStatus; }
  get files(): ShellFiles { return this.st.files; }
  get inFunction(): boolean { return this.locals.active; }

  declareLocal(name: string, value: string | undefined): void {
    this.locals.declare(this.localState, name);
    if (value !== undefined) this.st.vars.set(name, value);
  }

  /** Run a list; the status of its last command. */
  list(list: List, f: Frame): number {
    for (const ao of list) this.andOr(ao, f);
    return this.st.lastStatus;
  }

  private andOr(ao: AndOr, f: Frame): number {
    const n = ao.rest.length;
    let status = n ? this.ignoringErrexit(() => this.pipeline(ao.first, f)) : this.pipeline(ao.first, f);
    ao.rest.forEach(({ op, pipeline }, i) => {
      if ((op === '&&') !== (status === 0)) return;
      status = i < n - 1 ? this.ignoringErrexit(() => this.pipeline(pipeline, f)) : this.pipeline(pipeline, f);
    });
    return status;
  }

  /** Run `fn` where `set -e` does not apply (a condition, a `!`, an AND-OR list's left side). */
  private ignoringErrexit(fn: () => number): number { return this.errexitScope.ignoring(fn); }

  /**
   * `set -e` after a simple command, a multi-command pipeline or a `( )` that ended with
   * `status`: where it applies and the status is a failure, the shell exits as if by
   * `exit` with no operand (XCU 2.14 set -e; dash checks the same three kinds of command).
   */
  private errexit(status: number, f: Frame): number {
    if (this.errexitScope.applies(status, this.options)) {
      this.st.lastStatus = status;
      this.dispatch(['exit'], f);
    }
    return status;
  }

  private pipeline(p: Pipeline, f: Frame): number {
    if (p.bang) {
      const status = this.ignoringErrexit(() => this.pipelineCommands(p, f));
      return (this.st.lastStatus = status === 0 ? 1 : 0);
    }
    return (this.st.lastStatus = this.pipelineCommands(p, f));
  }

  private pipelineCommands(p: Pipeline, f: Frame): number {
    let status: number;
    if (p.commands.length === 1) {
      status = this.command(p.commands[0], f);
    } else {
      let stdin = f.stdin;
      status = 0;
      p.commands.forEach((c, i) => {
        const last = i === p.commands.length - 1;
        const buf = last ? null : new PipeBuffer();
        const stage: Frame = { ...f, stdin, out: buf ?? f.out, isTty: last && f.isTty };
        status = this.subshell(() => this.command(c, stage), stage);
        if (buf) stdin = inputOf(buf.bytes());
      });
      this.errexit(status, f);
    }
    return status;
  }

  /**
   * Run `fn` as a subshell writing to `f`: variables restored afterwards, `exit` ends only
   * it; the traps it inherits are the ignored ones (XCU 2.12), and its own EXIT action runs
   * when it ends.
   */
  subshell(fn: () => number, f: Frame): number {
    const st = this.st;
    const saved = st.vars.snapshot();
    const functions = new Map(this.functions);
    const { params, options, traps } = this;
    const loops = st.loops;
    const status = st.lastStatus; // $? outside is that of the last pipeline out here
    const restoreLocals = this.locals.enterSubshell();
    st.subshells++;
    st.loops = 0;
    this.traps = new Map([...traps].filter(([, action]) => action === ''));
    try {
      let s: number;
      try {
        s = fn();
      } catch (e) {
        if (e instanceof ShellExit && e.scope === 'subshell') s = e.status;
        else if (e instanceof LoopControl) s = st.lastStatus;
        else if (e instanceof FunctionReturn || e instanceof ShellAbort) s = e.status;
        else throw e;
      }
      return this.exitTrap(s, f);
    } finally {
      st.subshells--;
      restoreLocals();
      st.loops = loops;
      this.params = params;
      this.options = options;
      this.traps = traps;
      this.functions.clear();
      for (const [k, v] of functions) this.functions.set(k, v);
      st.lastStatus = status;
      st.vars.restore(saved);
    }
  }

  /** The shell (or subshell) ends with `status`: its EXIT action, if any, runs (trap.ts runExitAction). */
  exitTrap(status: number, f: Frame): number {
    return runExitAction(this.traps, status, f, (list) => {
      this.st.lastStatus = status;
      return this.list(list, f);
    });
  }

  private command(c: Command, f: Frame): number {
    if (c.kind === 'simple') return this.errexit(this.simple(c, f), f);
    if (c.kind === 'function') {
      this.functions.set(c.name, c);
      return (this.st.lastStatus = 0);
    }
    return this.withRedirects(c.redirects, f, (g) => {
      switch (c.kind) {
        case 'if': {
          for (const clause of c.clauses) {
            if (this.ignoringErrexit(() => this.list(clause.cond, g)) === 0) return this.list(clause.body, g);
          }
          return c.otherwise ? this.list(c.otherwise, g) : (this.st.lastStatus = 0);
        }
        case 'for': {
          let items: string[];
          try {
            items = c.items === null ? this.params : c.items.flatMap((w) => expandFields(w, this.env(g)));
          } catch (e) {
            return this.expansionFailed(e, g);
          }
          let status = 0;
          for (const item of items) {
            try {
              this.st.vars.set(c.name, item);
            } catch (e) {
              return this.expansionFailed(e, g); // a readonly NAME (ReadonlyError)
            }
            const r = this.loopBody(() => this.list(c.body, g));
            status = this.st.lastStatus;
            if (r === 'break') break;
          }
          return (this.st.lastStatus = status);
        }
        case 'while': {
          let status = 0;
          for (;;) {
            const cond = this.ignoringErrexit(() => this.list(c.cond, g));
            if ((cond === 0) === c.until) break;
            const r = this.loopBody(() => this.list(c.body, g));
            status = this.st.lastStatus;
            if (r === 'break') break;
          }
          return (this.st.lastStatus = status);
        }
        case 'group':
          if (!c.subshell) return this.list(c.body, g);
          return this.errexit((this.st.lastStatus = this.subshell(() => this.list(c.body, g), g)), g);
        case 'case':
          return this.caseCommand(c, g);
      }
    });
  }

  /** XCU 2.9.4.3: the first item with a pattern matching WORD runs; none: status 0. */
  private caseCommand(c: CaseCommand, f: Frame): number {
    const env = this.env(f);
    try {
      const word = expandString(c.word, env);
      for (const item of c.items) {
        if (item.patterns.some((p) => expandPattern(p, env).matches(word))) {
          return item.body.length ? this.list(item.body, f) : (this.st.lastStatus = 0);
        }
      }
    } catch (e) {
      return this.expansionFailed(e, f);
    }
    return (this.st.lastStatus = 0);
  }

  /** What NAME is, in the order a command is looked up (tools/sh/lookup.ts, `type`). */
  find(name: string): Found {
    if (RESERVED.has(name)) return 'keyword';
    if (SPECIAL_BUILTINS.has(name)) return 'special';
    if (this.functions.has(name)) return 'function';
    return RUNNER_BUILTINS.has(name) || this.st.hasCommand(name) ? 'builtin' : null;
  }

  /** `command NAME ARG...`: dispatch without the functions. */
  runWithoutFunctions(argv: string[], f: Frame): number {
    const builtin = this.st.forwarding ? undefined : RUNNER_BUILTINS.get(argv[0]);
    return builtin ? builtin.run(argv.slice(1), f, this) : this.st.invoke(argv, ioOf(f));
  }

  /** Run argv: special built-in, function or command, in that order (XCU 2.9.1.1). */
  private dispatch(argv: string[], f: Frame): number {
    const name = argv[0];
    if (!this.st.forwarding) {
      const fn = SPECIAL_BUILTINS.has(name) ? undefined : this.functions.get(name);
      if (fn) return this.call(fn, argv, f);
      const builtin = RUNNER_BUILTINS.get(name); // the special ones, or regular ones no function shadows
      if (builtin) return builtin.run(argv.slice(1), f, this);
    }
    return this.st.invoke(argv, ioOf(f));
  }

  /** Call a function (XCU 2.9.5): its arguments are $1..., loops outside it are not its. */
  private call(fn: FunctionCommand, argv: string[], f: Frame): number {
    const st = this.st;
    return this.nesting.run(fn.name, f.err, 'call', () => {
      const { params } = this;
      const loops = st.loops;
      this.params = argv.slice(1);
      st.loops = 0;
      try {
        return this.locals.call(this.localState, () => this.command(fn.body, f));
      } catch (e) {
        if (e instanceof FunctionReturn) return (st.lastStatus = e.status);
        throw e;
      } finally {
        this.params = params;
        st.loops = loops;
      }
    });
  }

  /** Run `fn` (a call, a dot script, an eval) one level deeper (bounded: control.ts Nesting). */
  nest(name: string, f: Frame, fn: () => number): number { return this.nesting.run(name, f.err, 'source', fn); }

  /** One pass of a loop body; a break/continue for an outer loop passes on. */
  private loopBody(fn: () => number): 'next' | 'break' {
    this.st.loops++;
    try {
      fn();
      return 'next';
    } catch (e) {
      if (!(e instanceof LoopControl)) throw e;
      if (e.levels > 1) { e.levels--; throw e; }
      return e.kind === 'break' ? 'break' : 'next';
    } finally {
      this.st.loops--;
    }
  }

  private simple(c: SimpleCommand, f: Frame): number {
    const st = this.st;
    let substStatus: number | null = null;
    const env = this.env(f, (s) => { substStatus = s; });
    let argv: string[];
    try {
      argv = expandArgs(c.words, env, !st.forwarding);
    } catch (e) {
      return this.expansionFailed(e, f);
    }
    return this.withRedirects(c.redirects, f, (g) => {
      // Assignments take effect left to right (`a=1 b=$a`); before a command they hold
      // for that command only, except before a special built-in, where they remain
      // (XCU 2.14: `x=1 :` sets x).
      const temporary = argv.length > 0 && !SPECIAL_BUILTINS.has(argv[0]);
      const saved = temporary ? c.assigns.map((a) => [a.name, st.vars.get(a.name)] as const) : [];
      try {
        for (const a of c.assigns) {
          try {
            st.vars.set(a.name, expandString(a.value, env));
          } catch (e) {
            return this.expansionFailed(e, g);
          }
        }
        if (this.options.includes('x')) this.xtrace(c, argv, g);
        if (argv.length === 0) return (st.lastStatus = substStatus ?? 0);
        return (st.lastStatus = this.dispatch(argv, g));
      } finally {
        for (const [k, v] of saved) st.vars.put(k, v);
      }
    });
  }

  /**
   * `set -x`: the command about to run, after expansion, on stderr: $PS4 (default "+ "),
   * then its assignments and words separated by spaces, as dash writes them (unquoted).
   */
  private xtrace(c: SimpleCommand, argv: readonly string[], f: Frame): void {
    const words = [...c.assigns.map((a) => `${a.name}=${this.st.vars.get(a.name) ?? ''}`), ...argv];
    f.err.write(`${this.st.vars.get('PS4') ?? '+ '}${words.join(' ')}\n`);
  }

  /** An expansion error (XCU 2.8.1): the message, and what the shell runs stops (the script, or the line at the prompt). */
  private expansionFailed(e: unknown, f: Frame): never {
    if (!(e instanceof ExpansionError)) throw e;
    f.err.write(`sh: ${e.message}\n`);
    this.st.lastStatus = STATUS_EXPANSION_FAILED;
    throw new ShellAbort(STATUS_EXPANSION_FAILED);
  }

  /** Apply redirections to a copy of `f`, run `fn` with it, close what was opened (redirect.ts). */
  private withRedirects(redirects: Redirect[], f: Frame, fn: (g: Frame) => number): number {
    return withRedirects(redirects, f, this.redirectScope, fn);
  }

  private readonly redirectScope: RedirectScope = {
    target: (w, f) => {
      try {
        return expandString(w, this.env(f));
      } catch (e) {
        return this.expansionFailed(e, f);
      }
    },
    files: () => this.st.files,
    failed: (status) => (this.st.lastStatus = status),
  };

  /** The expansion environment for commands running with frame `f`. */
  private env(f: Frame, onSubst?: (status: number) => void): ExpandEnv {
    const st = this.st;
    const runner = this;
    return {
      get: (n) => st.vars.get(n),
      set: (n, v) => { st.vars.set(n, v); },
      get lastStatus() { return st.lastStatus; },
      pid: () => st.pid(),
      get arg0() { return runner.arg0; },
      get params() { return runner.params; },
      get files() { return runner.noglob ? null : st.files; },
      get options() { return runner.options; },
      substitute: (body) => {
        const buf = new PipeBuffer();
        const sub: Frame = { ...f, out: buf, isTty: false };
        const status = this.subshell(() => this.list(body, sub), sub);
        onSubst?.(status);
        return fromUtf8(buf.bytes()).replace(/\n+$/, '');
      },
    };
  }
}
