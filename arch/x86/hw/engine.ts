/**
 * The MKTME engine: one per package, sitting between that package's memory controller
 * and its DRAM/NVRAM. Every 64-byte line that leaves the caches for this package's
 * memory is encrypted here, and every line that enters them is decrypted here.
 *
 * - The key table has MK_TME_MAX_KEYS+1 entries. KeyID 0 always uses the TME behaviour.
 * - Entry modes: TME (the platform key, or plaintext under bypass), KEY (an AES-XTS-128
 *   or -256 data key and tweak key), NO_ENCRYPT (plaintext).
 * - Data unit: one line. Tweak: the line's physical address with the KeyID bits
 *   cleared, as a 16-byte little-endian integer (a design choice: the spec says only
 *   that the KeyID is not part of the tweak; Intel MKTME spec (336907-003, rev 1.3), AES-XTS tweak).
 * - The exclusion range applies to KeyID 0 only (Intel MKTME spec (336907-003, rev 1.3), exclusion range, S3 standby and runtime rules).
 * - No method hands a key out. Keys go in through activation and PCONFIG only.
 */
import type { AlgName } from './config.js';
import { XtsCipher } from './crypto/xts.js';
import type { Rng } from './rng.js';

export const KEY_MODE_TME = 0;
export const KEY_MODE_KEY = 1;
export const KEY_MODE_NO_ENCRYPT = 2;

export const LINE = 64;

/** The outcome of an activation attempt, as IA32_TME_ACTIVATE will read back. */
export type ActivateResult = 'ok' | 'rng-failure' | 'restored-zero-key';

export interface ActivateRequest {
  policy: AlgName;
  bypass: boolean;
  keyIdBits: number;
  /** KEY_SELECT = 1: restore the saved platform key instead of making one. */
  restore: boolean;
  /** SAVE_KEY_FOR_STANDBY. */
  save: boolean;
}

export class MktmeEngine {
  /** TME hardware enabled (IA32_TME_ACTIVATE[1] committed). */
  enabled = false;
  bypass = false;
  private idBits = 0;
  /** 2^addrBits and 2^keyIdBits, kept with keyIdBits: keyIdOf runs on every miss. */
  private addrSpan = 2 ** 52;
  private keySpan = 1;
  /** Exclusion range as programmed in 983H/984H: match when (pa & mask) == base. */
  private exclBase = 0;
  private exclMask = 0;
  private exclEnabled = false;

  private readonly mode: Uint8Array;
  private readonly ciphers: (XtsCipher | null)[];
  private platform: XtsCipher | null = null;
  /** Key material kept for standby (S3) resume, when SAVE_KEY_FOR_STANDBY asked for it. */
  private saved: { policy: AlgName; key: Uint8Array } | null = null;

  /** Lines encrypted / decrypted per KeyID (the engine's counters). */
  readonly encLines: Float64Array;
  readonly decLines: Float64Array;

  /** Fault injection: make the next N key programs see the key-table lock held, or
   *  the RNG run dry. */
  injectBusy = 0;
  injectEntropyError = 0;
  /** Fault injection for activation: the RNG fails to make a platform key. */
  injectActivateRngFailure = false;

  constructor(
    readonly pkg: number,
    readonly maxKeys: number,
    readonly maxPhysAddr: number,
    private readonly rng: Rng,
  ) {
    this.mode = new Uint8Array(maxKeys + 1);
    this.ciphers = new Array(maxKeys + 1).fill(null);
    this.encLines = new Float64Array(maxKeys + 1);
    this.decLines = new Float64Array(maxKeys + 1);
  }

  /** KeyID bits in use (IA32_TME_ACTIVATE's MK_TME_KEYID_BITS once committed). */
  get keyIdBits(): number { return this.idBits; }
  set keyIdBits(bits: number) {
    this.idBits = bits;
    this.addrSpan = 2 ** (this.maxPhysAddr - bits);
    this.keySpan = 2 ** bits;
  }

  /** Bits of a physical address that carry no KeyID once MKTME is active. */
  get addrBits(): number { return this.maxPhysAddr - this.idBits; }

  keyIdOf(pa: number): number {
    if (this.idBits === 0) return 0;
    return Math.floor(pa / this.addrSpan) % this.keySpan;
  }

  /** stripKeyId and keyIdOf together: pa's KeyID in `keyIdOut[0]`, its address returned. */
  splitKeyId(pa: number, keyIdOut: Int32Array): number {
    if (this.idBits === 0) { keyIdOut[0] = 0; return pa; }
    const hi = Math.floor(pa / this.addrSpan);
    keyIdOut[0] = hi % this.keySpan;
    return pa - hi * this.addrSpan;
  }

  stripKeyId(pa: number): number {
    return this.idBits === 0 ? pa : pa % this.addrSpan;
  }

  /**
   * Run `fn` before any change to what the engine would do to a line (key table, mode,
   * exclusion range, activation, reset): the memory controller drains its
   * write-combining queue under the old state and drops prefetched lines (memsys.ts).
   */
  onChange(fn: () => void): void { this.changeHooks.push(fn); }
  private readonly changeHooks: (() => void)[] = [];
  private changing(): void { for (const fn of this.changeHooks) fn(); }

  /** Power-on / reset: forget everything except a key saved for standby. */
  reset(keepSaved: boolean): void {
    this.changing();
    for (const c of this.ciphers) c?.destroy();
    this.ciphers.fill(null);
    this.mode.fill(KEY_MODE_TME);
    this.platform?.destroy();
    this.platform = null;
    this.enabled = false;
    this.bypass = false;
    this.keyIdBits = 0;
    this.exclEnabled = false;
    this.exclBase = this.exclMask = 0;
    if (!keepSaved && this.saved) { this.saved.key.fill(0); this.saved = null; }
  }

  setExclusion(base: number, mask: number, enabled: boolean): void {
    this.changing();
    this.exclBase = base; this.exclMask = mask; this.exclEnabled = enabled;
  }

  /**
   * IA32_TME_ACTIVATE's commit with Hardware Encryption Enable set: make (or restore)
   * the platform key. All KeyIDs default to TME behaviour on activation (SDM PCONFIG).
   */
  activate(req: ActivateRequest): ActivateResult {
    this.changing();
    const len = req.policy === 'aes-xts-256' ? 64 : 32;
    let key: Uint8Array;
    if (req.restore) {
      if (!this.saved || this.saved.key.every((b) => b === 0)) return 'restored-zero-key';
      key = this.saved.key.slice();
    } else {
      if (this.injectActivateRngFailure) return 'rng-failure';
      key = this.rng.fill(new Uint8Array(len));
    }
    this.platform?.destroy();
    this.platform = new XtsCipher(key.subarray(0, len / 2), key.subarray(len / 2));
    if (req.save) {
      this.saved?.key.fill(0);
      this.saved = { policy: req.policy, key: key.slice() };
    }
    key.fill(0);
    this.enabled = true;
    this.bypass = req.bypass;
    this.keyIdBits = req.keyIdBits;
    this.mode.fill(KEY_MODE_TME);
    for (const c of this.ciphers) c?.destroy();
    this.ciphers.fill(null);
    return 'ok';
  }

  /** Record a committed write that left TME disabled (enable = 0). */
  deactivate(): void { this.changing(); this.enabled = false; }

  /**
   * KEY_TABLE_LOCK (spec "PCONFIG Concurrency"). The emulator runs one instruction at a
   * time, so a PCONFIG in flight on another logical processor is modelled by
   * `lockHolder`: the index of a CPU that holds the lock (set by a test or tool to stand
   * for that CPU's unfinished PCONFIG), or -1.
   */
  lockHolder = -1;

  /** Try to take the lock for `cpu`: false means another CPU holds it (DEVICE_BUSY). */
  tryLockKeyTable(cpu: number): boolean {
    if (this.injectBusy > 0) { this.injectBusy--; return false; }
    return this.lockHolder < 0 || this.lockHolder === cpu;
  }

  /** The CPU's RNG for KEYID_SET_KEY_RANDOM; null when entropy runs out. */
  randomKey(len: number): Uint8Array | null {
    if (this.injectEntropyError > 0) { this.injectEntropyError--; return null; }
    return this.rng.fill(new Uint8Array(len));
  }

  /**
   * Program one key-table entry. For KEY mode the cipher takes copies of key1/key2;
   * the caller zeroes its buffers.
   */
  programKey(keyid: number, mode: number, key1?: Uint8Array, key2?: Uint8Array): void {
    this.changing();
    this.ciphers[keyid]?.destroy();
    this.ciphers[keyid] = mode === KEY_MODE_KEY && key1 && key2 ? new XtsCipher(key1, key2) : null;
    this.mode[keyid] = mode;
  }

  /** The mode of a key-table entry (for counters and tests; never the key). */
  keyMode(keyid: number): number { return this.mode[keyid]; }

  /** Count lines the memory system moved in a batch (its write-combining queue and prefetcher). */
  countEncrypted(keyid: number, lines = 1): void { this.encLines[keyid] += lines; }
  countDecrypted(keyid: number, lines = 1): void { this.decLines[keyid] += lines; }

  /** The cipher for a line, or null when the line travels in plaintext (for the batched transfers, mcbuffers.ts). */
  lineCipher(keyid: number, addr: number): XtsCipher | null { return this.cipherFor(keyid, addr); }

  /** The cipher for a line, or null when the line travels in plaintext. */
  private cipherFor(keyid: number, addr: number): XtsCipher | null {
    if (!this.enabled) return null;
    if (keyid === 0 || this.mode[keyid] === KEY_MODE_TME) {
      if (keyid === 0 && this.exclEnabled && this.inExclusion(addr)) return null;
      return this.bypass ? null : this.platform;
    }
    return this.mode[keyid] === KEY_MODE_KEY ? this.ciphers[keyid] : null;
  }

  private inExclusion(addr: number): boolean {
    // (addr & mask) == (base & mask), done with arithmetic: addresses exceed 32 bits.
    return andBits(addr, this.exclMask) === andBits(this.exclBase, this.exclMask);
  }

  /** Encrypt one line on its way to memory: `keyid` and `addr` (KeyID bits cleared)
   *  come from the requesting core's view of the physical address. */
  encrypt(keyid: number, addr: number, src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number): void {
    const c = this.cipherFor(keyid, addr);
    this.encLines[keyid]++;
    if (c) c.encryptLine(addr, src, srcOff, dst, dstOff);
    else dst.set(src.subarray(srcOff, srcOff + LINE), dstOff);
  }

  /** Decrypt one line coming from memory. */
  decrypt(keyid: number, addr: number, src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number): void {
    const c = this.cipherFor(keyid, addr);
    this.decLines[keyid]++;
    if (c) c.decryptLine(addr, src, srcOff, dst, dstOff);
    else dst.set(src.subarray(srcOff, srcOff + LINE), dstOff);
  }
}

/** a & b for non-negative integers below 2^53, without 32-bit truncation. */
function andBits(a: number, b: number): number {
  const hi = (Math.floor(a / 4294967296) & Math.floor(b / 4294967296)) >>> 0;
  const lo = ((a >>> 0) & (b >>> 0)) >>> 0;
  return hi * 4294967296 + lo;
}
