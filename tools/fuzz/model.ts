/**
 * The fuzz harness's reference model: what each process's memory should hold, page by
 * page, and which keys exist. The harness predicts every command's effect here and
 * checks the kernel against it after every step (tools/fuzz/harness.ts).
 *
 * A page is (protection, shared?, key serial or 0 for KeyID 0, present?) per process,
 * and a cell (its bytes, or unknown after its key was lost in S3) that private pages
 * own and shared pages share between parent and child, as the kernel does (fork copies
 * private pages, shares shared ones).
 */

export const PAGE = 4096;

export interface Cell {
  /** null: never written (reads zero). */
  data: Uint8Array | null;
  /** false once the contents cannot be predicted (its key did not survive S3). */
  known: boolean;
}

export interface MPage {
  prot: string;
  shared: boolean;
  key: number;
  /** A PTE exists (the page was touched since mapping or the last discard). */
  present: boolean;
  cell: Cell;
}

export interface MProc {
  pid: number;
  uid: number;
  parent: number;
  pages: Map<number, MPage>;
}

export type KeyKind = 'cpu' | 'user' | 'no-encrypt';

export interface MKey { serial: number; uid: number; kind: KeyKind; revoked: boolean }

export class Model {
  procs = new Map<number, MProc>();
  keys = new Map<number, MKey>();

  constructor(loginPid: number) {
    this.procs.set(loginPid, { pid: loginPid, uid: 0, parent: 1, pages: new Map() });
  }

  proc(pid: number): MProc {
    const p = this.procs.get(pid);
    if (!p) throw new Error(`model: no process ${pid}`);
    return p;
  }

  map(pid: number, va: number, len: number, prot: string, shared: boolean): void {
    const p = this.proc(pid);
    for (let a = va; a < va + len; a += PAGE) {
      p.pages.set(a, { prot, shared, key: 0, present: false, cell: { data: null, known: true } });
    }
  }

  unmap(pid: number, va: number, len: number): void {
    const p = this.proc(pid);
    for (let a = va; a < va + len; a += PAGE) p.pages.delete(a);
  }

  /** Store bytes; false if some page is not mapped writable (the store would fault). */
  write(pid: number, va: number, bytes: Uint8Array): boolean {
    const p = this.proc(pid);
    for (let a = Math.floor(va / PAGE) * PAGE; a < va + bytes.length; a += PAGE) {
      const pg = p.pages.get(a);
      if (!pg || !pg.prot.includes('w')) return false;
    }
    for (let i = 0; i < bytes.length; i++) {
      const a = va + i;
      const pg = p.pages.get(Math.floor(a / PAGE) * PAGE)!;
      pg.present = true;
      if (!pg.cell.data) pg.cell.data = new Uint8Array(PAGE);
      pg.cell.data[a % PAGE] = bytes[i];
    }
    return true;
  }

  /** The bytes a read should return, null where unknown; undefined if it would fault. */
  read(pid: number, va: number, len: number): (number | null)[] | undefined {
    const p = this.proc(pid);
    for (let a = Math.floor(va / PAGE) * PAGE; a < va + len; a += PAGE) {
      const pg = p.pages.get(a);
      if (!pg || !pg.prot.includes('r')) return undefined;
    }
    const out: (number | null)[] = [];
    for (let i = 0; i < len; i++) {
      const a = va + i;
      const pg = p.pages.get(Math.floor(a / PAGE) * PAGE)!;
      pg.present = true;
      out.push(!pg.cell.known ? null : pg.cell.data ? pg.cell.data[a % PAGE] : 0);
    }
    return out;
  }

  /** encrypt_mprotect: pages whose key or protection changes are discarded. */
  encrypt(pid: number, va: number, len: number, prot: string, key: number): void {
    const p = this.proc(pid);
    for (let a = va; a < va + len; a += PAGE) {
      const pg = p.pages.get(a)!;
      if (pg.key === key && pg.prot === prot) continue;
      pg.prot = prot;
      pg.key = key;
      pg.present = false;
      pg.cell = { data: null, known: true };
    }
  }

  fork(pid: number, child: number, uid: number): void {
    const p = this.proc(pid);
    const pages = new Map<number, MPage>();
    for (const [a, pg] of p.pages) {
      const cell = pg.shared ? pg.cell : { data: pg.cell.data ? pg.cell.data.slice() : null, known: pg.cell.known };
      pages.set(a, { ...pg, cell });
    }
    this.procs.set(child, { pid: child, uid, parent: pid, pages });
  }

  /** A process ends: its children go to init (pid 1). */
  exit(pid: number): void {
    this.procs.delete(pid);
    for (const q of this.procs.values()) if (q.parent === pid) q.parent = 1;
  }

  /** After S3: contents under keys that did not come back are unknown. */
  lose_keys(kinds: KeyKind[]): void {
    for (const p of this.procs.values()) {
      for (const pg of p.pages.values()) {
        const k = this.keys.get(pg.key);
        if (k && kinds.includes(k.kind) && (pg.present || pg.cell.data)) pg.cell.known = false;
      }
    }
  }

  rss(pid: number): number {
    let n = 0;
    for (const pg of this.proc(pid).pages.values()) if (pg.present) n++;
    return n;
  }
}
