/**
 * diff [-u | -U N] [-q] FILE1 FILE2: compare two files line by line (`-` is standard
 * input, so `cmd | diff saved -` compares an output with a file). The edit script is a
 * shortest one (Myers' O(ND) algorithm, as GNU diff uses), printed in the normal
 * format ("2c2", "< old", "---", "> new") or unified with -u (3 lines of context;
 * headers carry the names only, no timestamps). Status 0 same, 1 different, 2 trouble.
 */
import { UsageError, type Command } from '../../registry.js';
import { filesOf } from '../../lib/kernel_files.js';
import { getopt } from '../../lib/getopt.js';
import { put, readInputs } from './input.js';

/** Lines with a flag for a missing final newline. */
function lines(text: string): { lines: string[]; noEol: boolean } {
  if (text === '') return { lines: [], noEol: false };
  const ls = text.split('\n');
  const noEol = ls[ls.length - 1] !== '';
  if (!noEol) ls.pop();
  return { lines: ls, noEol };
}

type Op = { kind: '=' | '-' | '+'; a: number; b: number };

/**
 * Edits beyond which the script is no longer searched for (the trace grows as D^2):
 * the rest is then one replacement, still a correct diff, as GNU diff gives up on
 * minimality for large inputs.
 */
const MAX_EDITS = 2000;

/** The common prefix and suffix kept, the middle replaced (when Myers gives up). */
function replaceAll(a: string[], b: string[]): Op[] {
  let p = 0;
  while (p < a.length && p < b.length && a[p] === b[p]) p++;
  let q = 0;
  while (q < a.length - p && q < b.length - p && a[a.length - 1 - q] === b[b.length - 1 - q]) q++;
  const ops: Op[] = [];
  for (let i = 0; i < p; i++) ops.push({ kind: '=', a: i, b: i });
  for (let i = p; i < a.length - q; i++) ops.push({ kind: '-', a: i, b: p });
  for (let j = p; j < b.length - q; j++) ops.push({ kind: '+', a: a.length - q, b: j });
  for (let i = 0; i < q; i++) ops.push({ kind: '=', a: a.length - q + i, b: b.length - q + i });
  return ops;
}

/** Myers' greedy shortest edit script between a and b. */
function editScript(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, MAX_EDITS);
  const off = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let done = false;
  for (let d = 0; d <= max && !done; d++) {
    trace.push(v.slice(off - d - 1, off + d + 2)); // the diagonals d can reach, and their neighbours
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[off + k - 1] < v[off + k + 1]) ? v[off + k + 1] : v[off + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) { x++; y++; }
      v[off + k] = x;
      if (x >= n && y >= m) { done = true; break; }
    }
  }
  if (!done) return replaceAll(a, b);
  // Walk back through the trace (trace[d] holds diagonals -d-1..d+1).
  const ops: Op[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const vd = trace[d];
    const at = (k: number): number => vd[k + d + 1];
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const px = d === 0 ? 0 : at(prevK);
    const py = px - prevK;
    while (x > px && y > py && x > 0 && y > 0 && a[x - 1] === b[y - 1]) { ops.push({ kind: '=', a: --x, b: --y }); }
    if (d === 0) break;
    if (x === px) ops.push({ kind: '+', a: x, b: --y });
    else ops.push({ kind: '-', a: --x, b: y });
  }
  while (x > 0 && y > 0) ops.push({ kind: '=', a: --x, b: --y });
  return ops.reverse();
}

const range = (lo: number, hi: number): string => (hi - lo <= 1 ? `${hi}` : `${lo + 1},${hi}`);

function normal(ops: Op[], A: ReturnType<typeof lines>, B: ReturnType<typeof lines>): string {
  let out = '';
  const line = (side: '<' | '>', L: ReturnType<typeof lines>, i: number): string =>
    `${side} ${L.lines[i]}\n${i === L.lines.length - 1 && L.noEol ? '\\ No newline at end of file\n' : ''}`;
  for (let i = 0; i < ops.length;) {
    if (ops[i].kind === '=') { i++; continue; }
    const del: number[] = [];
    const add: number[] = [];
    const a0 = ops[i].a;
    const b0 = ops[i].b;
    while (i < ops.length && ops[i].kind !== '=') {
      if (ops[i].kind === '-') del.push(ops[i].a); else add.push(ops[i].b);
      i++;
    }
    if (del.length && add.length) {
      out += `${range(a0, a0 + del.length)}c${range(b0, b0 + add.length)}\n`;
      out += del.map((j) => line('<', A, j)).join('') + '---\n' + add.map((j) => line('>', B, j)).join('');
    } else if (del.length) {
      out += `${range(a0, a0 + del.length)}d${b0}\n` + del.map((j) => line('<', A, j)).join('');
    } else {
      out += `${a0}a${range(b0, b0 + add.length)}\n` + add.map((j) => line('>', B, j)).join('');
    }
  }
  return out;
}

function unified(ops: Op[], A: ReturnType<typeof lines>, B: ReturnType<typeof lines>, ctx: number, n1: string, n2: string): string {
  let out = `--- ${n1}\n+++ ${n2}\n`;
  const changes = ops.map((o, i) => (o.kind === '=' ? -1 : i)).filter((i) => i >= 0);
  let i = 0;
  while (i < changes.length) {
    let start = Math.max(0, changes[i] - ctx);
    let end = Math.min(ops.length, changes[i] + ctx + 1);
    let j = i + 1;
    while (j < changes.length && changes[j] - ctx <= end) { end = Math.min(ops.length, changes[j] + ctx + 1); j++; }
    const hunk = ops.slice(start, end);
    const aStart = hunk.find((o) => o.kind !== '+')?.a ?? hunk[0].a;
    const bStart = hunk.find((o) => o.kind !== '-')?.b ?? hunk[0].b;
    const aLen = hunk.filter((o) => o.kind !== '+').length;
    const bLen = hunk.filter((o) => o.kind !== '-').length;
    const spec = (s: number, l: number): string => (l === 1 ? `${s + 1}` : `${l === 0 ? s : s + 1},${l}`);
    out += `@@ -${spec(aStart, aLen)} +${spec(bStart, bLen)} @@\n`;
    for (const o of hunk) {
      const L = o.kind === '+' ? B : A;
      const idx = o.kind === '+' ? o.b : o.a;
      out += `${o.kind === '=' ? ' ' : o.kind}${L.lines[idx]}\n`;
      if (idx === L.lines.length - 1 && L.noEol && (o.kind !== '=' || B.noEol === A.noEol)) out += '\\ No newline at end of file\n';
    }
    start = end;
    i = j;
  }
  return out;
}

export const diffCommand: Command<unknown> = {
  name: 'diff',
  usage: 'diff [-u | -U N] [-q] FILE1 FILE2',
  summary: 'compare two files (- for standard input) line by line',
  run(ctx, args, io, sh) {
    const { opts, rest } = getopt(args, 'uU:q');
    let context: number | null = null;
    let brief = false;
    for (const [o, v] of opts) {
      if (o === 'u') context = 3;
      else if (o === 'U') {
        if (!/^[0-9]+$/.test(v!)) throw new UsageError(`invalid context length '${v}'`);
        context = Number(v);
      } else brief = true;
    }
    if (rest.length !== 2) throw new UsageError(rest.length < 2 ? `missing operand after '${rest[0] ?? 'diff'}'` : `extra operand '${rest[2]}'`);
    if (rest[0] === '-' && rest[1] === '-') return 0;
    const { inputs, failed } = readInputs('diff', rest, io, filesOf(ctx, sh));
    if (failed) return 2;
    const [A, B] = inputs.map((i) => lines(i.text));
    if (inputs[0].text === inputs[1].text) return 0;
    if (brief) {
      put(io, `Files ${rest[0]} and ${rest[1]} differ\n`);
      return 1;
    }
    // A missing newline at the end makes the last lines differ, as in GNU diff.
    const key = (L: ReturnType<typeof lines>): string[] => L.lines.map((l, i) => (i === L.lines.length - 1 && L.noEol ? l + '\u0000' : l));
    const ops = editScript(key(A), key(B));
    put(io, context === null ? normal(ops, A, B) : unified(ops, A, B, context, rest[0], rest[1]));
    return 1;
  },
};
