/**
 * Test helpers for the key service: a booted key service on a virtual clock, and a fake
 * MKTME platform (per-package key tables, failure injection, a printk log) standing in
 * for PCONFIG behind mktme_hw_ops.
 */
import {
  key_cred_alloc, key_init, init_mktme, MKTME_PROG_SUCCESS,
  type key_cred, type mktme_hw_ops, type mktme_init_options,
} from '../../kernel/keys/index.js';

export interface ProgramCall {
  cpu: number;
  keyid: number;
  ctrl: number;
  /** The buffers exactly as the kernel passed them (to check they are wiped later). */
  f1: Uint8Array;
  f2: Uint8Array;
  /** Their contents at the time of the call. */
  f1_seen: Uint8Array;
  f2_seen: Uint8Array;
}

export interface TableEntry { ctrl: number; f1: Uint8Array; f2: Uint8Array }

export class FakeMktme implements mktme_hw_ops {
  readonly tables: Map<number, TableEntry>[];
  readonly calls: ProgramCall[] = [];
  readonly log: string[] = [];
  /** Return a status to fail this call, or undefined to let it succeed. */
  fail: ((call: ProgramCall, nth: number) => number | undefined) | null = null;

  constructor(public nr = 4, public alg_mask = 0b101, public leads = [0, 2]) {
    this.tables = leads.map(() => new Map());
  }

  nr_keyids(): number { return this.nr; }
  algs(): number { return this.alg_mask; }
  lead_cpus(): number[] { return [...this.leads]; }
  printk(msg: string): void { this.log.push(msg); }

  key_program(cpu: number, keyid: number, keyid_ctrl: number, f1: Uint8Array, f2: Uint8Array): number {
    const call: ProgramCall = { cpu, keyid, ctrl: keyid_ctrl, f1, f2, f1_seen: f1.slice(), f2_seen: f2.slice() };
    this.calls.push(call);
    const status = this.fail?.(call, this.calls.length - 1);
    if (status !== undefined && status !== MKTME_PROG_SUCCESS) return status;
    const pkg = this.leads.indexOf(cpu);
    if (pkg < 0) throw new Error(`PCONFIG on non-lead cpu ${cpu}`);
    this.tables[pkg].set(keyid, { ctrl: keyid_ctrl, f1: f1.slice(), f2: f2.slice() });
    return MKTME_PROG_SUCCESS;
  }

  /** Command (bits 7:0) programmed for keyid on each package (undefined = never). */
  modes(keyid: number): (number | undefined)[] {
    return this.tables.map((t) => (t.has(keyid) ? t.get(keyid)!.ctrl & 0xff : undefined));
  }
}

export interface Booted {
  clock: { t: number };
  hw: FakeMktme;
  root: key_cred;
  alice: key_cred;
  bob: key_cred;
}

/** Boot a key service at t=1000 with a fake 2-package MKTME platform. */
export function boot(opts: { hw?: FakeMktme; mktme?: mktme_init_options; seed?: number } = {}): Booted {
  const clock = { t: 1000 };
  key_init({ now: () => clock.t, serial_seed: opts.seed ?? 42 });
  const hw = opts.hw ?? new FakeMktme();
  init_mktme(hw, opts.mktme ?? {});
  return {
    clock, hw,
    root: key_cred_alloc(0, 0),
    alice: key_cred_alloc(1000, 1000),
    bob: key_cred_alloc(1001, 1001),
  };
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
