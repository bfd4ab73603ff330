/**
 * Redirections (XCU 2.7) of one command, as this shell has them: `> FILE`, `>> FILE`,
 * `< FILE`, `2> FILE`, `N>&M` / `N<&M` among 0-2, and here-documents on standard input.
 * Files are the shell's (ShellFiles: host files, the kernel's /proc, /sys, /dev). A
 * redirection that fails is "sh: TARGET: message", status 1, and the command does not
 * run; the script goes on (XCU 2.8.1 would stop it where the command is a special
 * built-in, a compound command or a function: README says so).
 */
import type { Redirect, Word } from './ast.js';
import { FileError, type FileSink, type ShellFiles } from '../lib/files.js';
import { inputOf } from '../lib/io.js';
import type { Frame, Sink } from './frame.js';

const STATUS_REDIRECT_FAILED = 1;

/** What redirections need from the runner. */
export interface RedirectScope {
  /** A redirection's target, expanded (an expansion error stops the script: it throws). */
  target(w: Word, f: Frame): string;
  files(): ShellFiles;
  /** Record a failed redirection's status ($?) and return it. */
  failed(status: number): number;
}

/** Apply `redirects` to a copy of `f`, run `fn` with it, close what was opened. */
export function withRedirects(redirects: Redirect[], f: Frame, scope: RedirectScope, fn: (g: Frame) => number): number {
  if (redirects.length === 0) return fn(f);
  const opened: FileSink[] = [];
  const g: Frame = { ...f };
  try {
    for (const r of redirects) {
      const target = scope.target(r.target, f);
      const fail = (msg: string): number => {
        f.err.write(`sh: ${msg}\n`);
        return scope.failed(STATUS_REDIRECT_FAILED);
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
        if (r.op === '<<') {
          // XCU 2.7.4: the here-document, expanded, is the standard input.
          if (r.fd !== 0) return fail('a here-document is only supported on standard input');
          g.stdin = inputOf(new TextEncoder().encode(target));
        } else if (r.op === '<') {
          if (r.fd !== 0) return fail(`${target}: reading is only supported on standard input`);
          g.stdin = inputOf(scope.files().read(target));
        } else {
          const file = scope.files().open(target, r.op === '>>');
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
