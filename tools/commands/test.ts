/**
 * test EXPRESSION and [ EXPRESSION ]: POSIX XCU test. Status 0 true, 1 false, 2 error.
 *
 * With up to four arguments the outcome follows POSIX's rules by argument count (so
 * `[ "$x" = -n ]` compares strings whatever $x holds); longer expressions are parsed
 * with ! -a -o ( ) in the usual precedence (-a binds tighter than -o).
 * Primaries: -n -z STRING; = != < > on strings; -eq -ne -lt -le -gt -ge on integers;
 * -e -f -d -s -r -w -x on files (host files, and /proc, /sys in the kernel shell).
 */
import type { Command } from '../registry.js';
import type { ShellFiles } from '../lib/files.js';
import { filesOf } from '../lib/kernel_files.js';

class TestError extends Error {}

const UNARY = new Set(['-n', '-z', '-e', '-f', '-d', '-s', '-r', '-w', '-x', '-h', '-L', '-b', '-c', '-p', '-S', '-t']);
const BINARY = new Set(['=', '!=', '==', '<', '>', '-eq', '-ne', '-lt', '-le', '-gt', '-ge']);

function integer(s: string): bigint {
  if (!/^\s*[+-]?[0-9]+\s*$/.test(s)) throw new TestError(`${s}: integer expression expected`);
  return BigInt(s.trim());
}

function unary(op: string, a: string, files: ShellFiles): boolean {
  switch (op) {
    case '-n': return a !== '';
    case '-z': return a === '';
    case '-t': return false; // no descriptor of this shell is a terminal it could test
    default: {
      const st = files.stat(a);
      if (!st) return false;
      switch (op) {
        case '-f': return st.kind === 'file';
        case '-d': return st.kind === 'dir';
        case '-s': return st.size > 0;
        case '-h': case '-L': case '-b': case '-c': case '-p': case '-S': return false;
        default: return true; // -e -r -w -x: it exists (the shell runs as the host user)
      }
    }
  }
}

function binary(op: string, a: string, b: string): boolean {
  switch (op) {
    case '=': case '==': return a === b;
    case '!=': return a !== b;
    case '<': return a < b;
    case '>': return a > b;
    case '-a': return a !== '' && b !== '';
    case '-o': return a !== '' || b !== '';
  }
  const x = integer(a);
  const y = integer(b);
  switch (op) {
    case '-eq': return x === y;
    case '-ne': return x !== y;
    case '-lt': return x < y;
    case '-le': return x <= y;
    case '-gt': return x > y;
    default: return x >= y;
  }
}

function evaluate(args: string[], files: ShellFiles): boolean {
  const n = args.length;
  const isBinary = (s: string): boolean => BINARY.has(s) || s === '-a' || s === '-o';
  switch (n) {
    case 0: return false;
    case 1: return args[0] !== '';
    case 2:
      if (args[0] === '!') return args[1] === '';
      if (UNARY.has(args[0])) return unary(args[0], args[1], files);
      throw new TestError(`${args[0]}: unary operator expected`);
    case 3:
      if (isBinary(args[1])) return binary(args[1], args[0], args[2]);
      if (args[0] === '!') return !evaluate(args.slice(1), files);
      if (args[0] === '(' && args[2] === ')') return args[1] !== '';
      throw new TestError(`${args[1]}: binary operator expected`);
    case 4:
      if (args[0] === '!') return !evaluate(args.slice(1), files);
      if (args[0] === '(' && args[3] === ')') return evaluate(args.slice(1, 3), files);
  }
  return general(args, files);
}

/** Recursive descent for more than four arguments. */
function general(args: string[], files: ShellFiles): boolean {
  let i = 0;
  const at = (k = 0): string | undefined => args[i + k];
  const or = (): boolean => {
    let v = and();
    while (at() === '-o') { i++; const r = and(); v = v || r; }
    return v;
  };
  const and = (): boolean => {
    let v = not();
    while (at() === '-a') { i++; const r = not(); v = v && r; }
    return v;
  };
  const not = (): boolean => {
    if (at() === '!' && at(1) !== undefined) { i++; return !not(); }
    return primary();
  };
  const primary = (): boolean => {
    const a = at();
    if (a === undefined) throw new TestError('argument expected');
    if (a === '(' ) {
      i++;
      const v = or();
      if (at() !== ')') throw new TestError("')' expected");
      i++;
      return v;
    }
    if (UNARY.has(a) && at(1) !== undefined) { i += 2; return unary(a, args[i - 1], files); }
    const op = at(1);
    if (op !== undefined && BINARY.has(op) && at(2) !== undefined) { i += 3; return binary(op, a, args[i - 1]); }
    i++;
    return a !== '';
  };
  const v = or();
  if (i < args.length) throw new TestError(`${args[i]}: unexpected operator`);
  return v;
}

function testCommand(name: 'test' | '['): Command<unknown> {
  return {
    name,
    usage: name === 'test' ? 'test EXPRESSION' : '[ EXPRESSION ]',
    summary: 'evaluate a condition: status 0 if true, 1 if false',
    run(ctx, args, io, sh) {
      if (name === '[') {
        if (args[args.length - 1] !== ']') {
          io.err("[: missing ']'\n");
          return 2;
        }
        args = args.slice(0, -1);
      }
      try {
        return evaluate(args, filesOf(ctx, sh)) ? 0 : 1;
      } catch (e) {
        if (!(e instanceof TestError)) throw e;
        io.err(`${name}: ${e.message}\n`);
        return 2;
      }
    },
  };
}

export const testCmd = testCommand('test');
export const bracketCommand = testCommand('[');
