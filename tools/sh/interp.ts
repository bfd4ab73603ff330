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
 */
import type { AndOr, Command, List, Pipeline, Redirect, SimpleCommand } from './ast.js';
import { ExpansionError, expandFields, expandString, type ExpandEnv } from './expand.js';
import { LoopControl, ShellExit } from './control.js';
import { FileError, type FileSink, type ShellFiles } from '../lib/files.js';
import { EMPTY_BYTES, OutputBuffer, fromUtf8, inputOf, type ShellInput, type ShellIo } from '../lib/io.js';

/** Where bytes or text go: the terminal, a pipe, a file. */
export interface Sink { write(chunk: string | Uint8Array): void }

/** A command's three standard streams. */
export interface Frame {
  stdin: ShellInput;
  out: Sink;
  err: Sink;
  /** Standard output is the terminal. */
  isTty: boolean;
}

/** What the runner needs from the shell it runs in (tools/registry.ts Shell). */
export interface ShellState {
  lastStatus: number;
  readonly vars: Map<string, string>;
  /** Depth of subshells the runner is in. */
  subshells: number;
  /** Depth of loops the runner is in (break/continue check it). */
  loops: number;
  readonly files: ShellFiles;
  /** Run argv as a command; ShellExit and LoopControl pass through. */
  invoke(argv: string[], io: ShellIo): number;
  /** $$ */
  pid(): number;
}

/** Largest output one pipe stage or substitution may collect (a runaway loop ends). */
const PIPE_MAX = 256 * 1024 * 1024;

const STATUS_REDIRECT_FAILED = 1;
const STATUS_EXPANSION_FAILED = 2;

/** A frame writing to a ShellIo (the shell's own streams). */
export function frameOf(io: ShellIo, stdin: ShellInput | undefined): Frame {
  return {
    stdin: stdin ?? inputOf(EMPTY_BYTES),
    out: { write: (c) => (typeof c === 'string' ? io.out(c) : io.outBytes ? io.outBytes(c) : io.out(fromUtf8(c))) },
    err: { write: (c) => io.err(typeof c === 'string' ? c : fromUtf8(c)) },
    isTty: io.isTty,
  };
}

/** The ShellIo a command sees for a frame. */
function ioOf(f: Frame): ShellIo {
  return {
    out: (s) => f.out.write(s),
    err: (s) => f.err.write(s),
    outBytes: (b) => f.out.write(b),
    isTty: f.isTty,
    stdin: f.stdin,
  };
}

class PipeBuffer extends OutputBuffer {
  override write(chunk: string | Uint8Array): void {
    super.write(chunk);
    if (this.size > PIPE_MAX) throw new ShellExit(STATUS_REDIRECT_FAILED, 'subshell');
  }
}

export class Runner {
  constructor(private readonly st: ShellState) {}

  /** Run a list; the status of its last command. */
  list(list: List, f: Frame): number {
    for (const ao of list) this.andOr(ao, f);
    return this.st.lastStatus;
  }

  private andOr(ao: AndOr, f: Frame): number {
    let status = this.pipeline(ao.first, f);
    for (const { op, pipeline } of ao.rest) {
      if ((op === '&&') === (status === 0)) status = this.pipeline(pipeline, f);
    }
    return status;
  }

  private pipeline(p: Pipeline, f: Frame): number {
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
        status = this.subshell(() => this.command(c, stage));
        if (buf) stdin = inputOf(buf.bytes());
      });
    }
    if (p.bang) status = status === 0 ? 1 : 0;
    return (this.st.lastStatus = status);
  }

  /** Run `fn` as a subshell: variables restored afterwards, `exit` ends only it. */
  subshell(fn: () => number): number {
    const st = this.st;
    const saved = new Map(st.vars);
    const loops = st.loops;
    const status = st.lastStatus; // $? outside is that of the last pipeline out here
    st.subshells++;
    st.loops = 0;
    try {
      return fn();
    } catch (e) {
      if (e instanceof ShellExit && e.scope === 'subshell') return e.status;
      if (e instanceof LoopControl) return st.lastStatus;
      throw e;
    } finally {
      st.subshells--;
      st.loops = loops;
      st.lastStatus = status;
      st.vars.clear();
      for (const [k, v] of saved) st.vars.set(k, v);
    }
  }

  private command(c: Command, f: Frame): number {
    if (c.kind === 'simple') return this.simple(c, f);
    return this.withRedirects(c.redirects, f, (g) => {
      switch (c.kind) {
        case 'if': {
          for (const clause of c.clauses) {
            if (this.list(clause.cond, g) === 0) return this.list(clause.body, g);
          }
          return c.otherwise ? this.list(c.otherwise, g) : (this.st.lastStatus = 0);
        }
        case 'for': {
          const items = c.items === null ? [] : c.items.flatMap((w) => expandFields(w, this.env(g)));
          let status = 0;
          for (const item of items) {
            this.st.vars.set(c.name, item);
            const r = this.loopBody(() => this.list(c.body, g));
            status = this.st.lastStatus;
            if (r === 'break') break;
          }
          return (this.st.lastStatus = status);
        }
        case 'while': {
          let status = 0;
          for (;;) {
            const cond = this.list(c.cond, g);
            if ((cond === 0) === c.until) break;
            const r = this.loopBody(() => this.list(c.body, g));
            status = this.st.lastStatus;
            if (r === 'break') break;
          }
          return (this.st.lastStatus = status);
        }
        case 'group':
          return c.subshell ? (this.st.lastStatus = this.subshell(() => this.list(c.body, g))) : this.list(c.body, g);
      }
    });
  }

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
      argv = c.words.flatMap((w) => expandFields(w, env));
    } catch (e) {
      return this.expansionFailed(e, f);
    }
    return this.withRedirects(c.redirects, f, (g) => {
      // Assignments take effect left to right (`a=1 b=$a`); before a command they hold
      // for that command only.
      const saved = argv.length ? c.assigns.map((a) => [a.name, st.vars.get(a.name)] as const) : [];
      try {
        for (const a of c.assigns) {
          try {
            st.vars.set(a.name, expandString(a.value, env));
          } catch (e) {
            return this.expansionFailed(e, g);
          }
        }
        if (argv.length === 0) return (st.lastStatus = substStatus ?? 0);
        return (st.lastStatus = st.invoke(argv, ioOf(g)));
      } finally {
        for (const [k, v] of saved) if (v === undefined) st.vars.delete(k); else st.vars.set(k, v);
      }
    });
  }

  private expansionFailed(e: unknown, f: Frame): number {
    if (!(e instanceof ExpansionError)) throw e;
    f.err.write(`sh: ${e.message}\n`);
    return (this.st.lastStatus = STATUS_EXPANSION_FAILED);
  }

  /** Apply redirections to a copy of `f`, run `fn` with it, close what was opened. */
  private withRedirects(redirects: Redirect[], f: Frame, fn: (g: Frame) => number): number {
    if (redirects.length === 0) return fn(f);
    const opened: FileSink[] = [];
    const g: Frame = { ...f };
    try {
      for (const r of redirects) {
        let target: string;
        try {
          target = expandString(r.target, this.env(f));
        } catch (e) {
          return this.expansionFailed(e, f);
        }
        const fail = (msg: string): number => {
          f.err.write(`sh: ${msg}\n`);
          return (this.st.lastStatus = STATUS_REDIRECT_FAILED);
        };
        if (r.op === '>&' || r.op === '<&') {
          if (!/^[0-2]$/.test(target)) return fail(`${target}: bad file descriptor`);
          const src = Number(target);
          if (r.fd === 0 || src === 0) {
            if (r.fd !== src) return fail(`${target}: bad file descriptor`);
            continue;
          }
          const sink = src === 1 ? g.out : g.err;
          if (r.fd === 1) { g.out = sink; g.isTty = src === 1 ? g.isTty : false; } else g.err = sink;
          continue;
        }
        try {
          if (r.op === '<') {
            if (r.fd !== 0) return fail(`${target}: reading is only supported on standard input`);
            const data = this.st.files.read(target);
            g.stdin = inputOf(data);
          } else {
            const file = this.st.files.open(target, r.op === '>>');
            opened.push(file);
            const sink: Sink = { write: (c) => file.write(typeof c === 'string' ? new TextEncoder().encode(c) : c) };
            if (r.fd === 1) { g.out = sink; g.isTty = false; } else if (r.fd === 2) g.err = sink;
            else return fail(`${target}: bad file descriptor`);
          }
        } catch (e) {
          if (e instanceof FileError) return fail(`${target}: ${e.message}`);
          throw e;
        }
      }
      return fn(g);
    } finally {
      for (const file of opened) file.close();
    }
  }

  /** The expansion environment for commands running with frame `f`. */
  private env(f: Frame, onSubst?: (status: number) => void): ExpandEnv {
    const st = this.st;
    return {
      get: (n) => st.vars.get(n),
      set: (n, v) => { st.vars.set(n, v); },
      get lastStatus() { return st.lastStatus; },
      pid: () => st.pid(),
      substitute: (body) => {
        const buf = new PipeBuffer();
        const status = this.subshell(() => this.list(body, { ...f, out: buf, isTty: false }));
        onSubst?.(status);
        return fromUtf8(buf.bytes()).replace(/\n+$/, '');
      },
    };
  }
}
