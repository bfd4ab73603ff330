/**
 * A minimal WebAssembly assembler: just enough of the binary format (WebAssembly Core
 * Specification 2.0, §5) to emit the machine's WebAssembly routines from TypeScript (the
 * XTS routines, crypto/xts-wasm.ts; a cache's stream loop, cachewasm.ts), so no opaque
 * binary is checked in and no toolchain is needed.
 *
 * A module here is one exported memory of fixed size plus a list of functions; each
 * function is exported under its name. Bodies are flat byte arrays built with `op` and
 * the structured-control helpers below it. Only the instructions the routines use are
 * defined.
 */

export const I32 = 0x7f;
export const I64 = 0x7e;
export const F64 = 0x7c;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof I64 | typeof F64 | typeof V128;

/** Unsigned LEB128 (§5.2.2) of a non-negative integer below 2^32. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
function sleb(n: number): number[] {
  n |= 0;
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** A memory argument: alignment exponent and constant offset (§5.4.6). */
const memarg = (align: number, offset: number): number[] => [align, ...uleb(offset)];

/** Instructions (§5.4). Each returns its encoding. */
export const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  i64zero: [0x42, 0x00],
  load: (offset: number) => [0x28, ...memarg(2, offset)],
  load8U: (offset: number) => [0x2d, ...memarg(0, offset)],
  store8: (offset: number) => [0x3a, ...memarg(0, offset)],
  loadF64: (offset: number) => [0x2b, ...memarg(3, offset)],
  storeF64: (offset: number) => [0x39, ...memarg(3, offset)],
  /** f64.const, its IEEE 754 bits little-endian (§5.4.7). */
  f64: (v: number) => [0x44, ...new Uint8Array(new Float64Array([v]).buffer)],
  store: (offset: number) => [0x36, ...memarg(2, offset)],
  store64: (offset: number) => [0x37, ...memarg(3, offset)],
  add: [0x6a],
  sub: [0x6b],
  eqz: [0x45],
  ne: [0x47],
  geU: [0x4f],
  neF64: [0x62],
  addF64: [0xa0],
  subF64: [0xa1],
  mulF64: [0xa2],
  convertU32F64: [0xb8], // f64.convert_i32_u
  truncF64U64: [0xb1], // i64.trunc_f64_u (traps outside 0 .. 2^64)
  wrap64: [0xa7], // i32.wrap_i64: the low 32 bits
  mul: [0x6c],
  and: [0x71],
  or: [0x72],
  xor: [0x73],
  shl: [0x74],
  shrU: [0x76],
  ltU: [0x49],
  add64: [0x7c],
  or64: [0x84],
  shl64: [0x86],
  i64: (v: number) => [0x42, ...sleb(v)], // small constants only (|v| < 2^31)
  extendU: [0xad], // i64.extend_i32_u
  loop: [0x03, 0x40],
  end: [0x0b],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  // 128-bit SIMD (§5.4.8, prefix 0xfd, then the opcode as unsigned LEB128).
  load128: (offset: number) => [0xfd, 0x00, ...memarg(4, offset)],
  store128: (offset: number) => [0xfd, 0x0b, ...memarg(4, offset)],
  xor128: [0xfd, 0x51],
  and128: [0xfd, 0x4e],
  /** v128.const from 16 bytes. */
  const128: (bytes: number[]) => [0xfd, 0x0c, ...bytes],
  /** i8x16.shuffle of the two operands' 32 bytes by 16 lane indices. */
  shuffle8x16: (lanes: number[]) => [0xfd, 0x0d, ...lanes],
  shl64x2: [0xfd, 0xcb, 0x01], // i64x2.shl (count: an i32 operand)
  shrS64x2: [0xfd, 0xcc, 0x01], // i64x2.shr_s
};

/** block ... end (no result): `br` to it leaves the block. */
export const block = (...body: number[][]): number[] => [0x02, 0x40, ...body.flat(), ...op.end];
/** loop ... end (no result): `br` to it starts the body again. */
export const loop = (...body: number[][]): number[] => [0x03, 0x40, ...body.flat(), ...op.end];
/**
 * while (i < n) { body; i++ } over i32 locals i and n (unsigned), as block(loop(...)):
 * in the body, a `br` of depth 1 (plus the ifs around it) leaves the loop.
 */
export const countUp = (i: number, n: number, ...body: number[][]): number[] => block(loop(
  [...op.get(i), ...op.get(n), ...op.geU, ...op.brIf(1)], ...body,
  [...op.get(i), ...op.i32(1), ...op.add, ...op.set(i), ...op.br(0)]));
/** if (cond) then [else otherwise] end, no result; cond is an i32 expression. */
export const when = (cond: number[], then: number[][], otherwise?: number[][]): number[] =>
  [...cond, 0x04, 0x40, ...then.flat(), ...(otherwise ? [0x05, ...otherwise.flat()] : []), ...op.end];

export interface WasmFunc {
  name: string;
  params: ValType[];
  /** Result types (none if absent). */
  results?: ValType[];
  /** Types of the extra locals, numbered after the params. */
  locals: ValType[];
  body: number[];
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, bytes: number[]): number[] => [id, ...uleb(bytes.length), ...bytes];
const name = (s: string): number[] => vec([...Buffer.from(s, 'utf8')].map((b) => [b]));

/** The binary of a module with one exported memory ("memory", `pages` x 64 KiB, fixed). */
export function assemble(funcs: WasmFunc[], pages: number): Uint8Array<ArrayBuffer> {
  const sigs: string[] = [];
  const typeOf = funcs.map((f) => {
    const sig = `${f.params.join(',')}>${(f.results ?? []).join(',')}`;
    if (!sigs.includes(sig)) sigs.push(sig);
    return sigs.indexOf(sig);
  });
  const valTypes = (list: string): number[][] => (list === '' ? [] : list.split(',').map((t) => [Number(t)]));
  const types = sigs.map((s) => {
    const [params, results] = s.split('>');
    return [0x60, ...vec(valTypes(params)), ...vec(valTypes(results))];
  });
  const code = funcs.map((f) => {
    // Locals are run-length encoded by type (§5.5.13).
    const runs: number[][] = [];
    for (const t of f.locals) {
      const last = runs[runs.length - 1];
      if (last && last[1] === t) last[0]++;
      else runs.push([1, t]);
    }
    const body = [...vec(runs.map(([n, t]) => [...uleb(n), t])), ...f.body, ...op.end];
    return [...uleb(body.length), ...body];
  });
  const exports = [
    [...name('memory'), 0x02, 0x00],
    ...funcs.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]),
  ];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(3, vec(typeOf.map((t) => uleb(t)))),
    ...section(5, vec([[0x01, ...uleb(pages), ...uleb(pages)]])),
    ...section(7, vec(exports)),
    ...section(10, vec(code)),
  ]);
}
