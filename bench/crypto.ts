/**
 * Benchmark section: the MKTME engine's AES-XTS data path (arch/x86/hw/crypto/xts.ts)
 * against node:crypto's native AES-128-XTS measured in the same run.
 *
 * - line_mb_s: 64-byte lines at random addresses and random buffer offsets, alternately
 *   encrypted and decrypted through XtsCipher.encryptLine/decryptLine.
 * - batch_mb_s: runs of 64 lines at consecutive addresses from a random page (the memory
 *   controller's write-combining queue drains its lines and its stream prefetcher fetches
 *   them as such runs: XtsCipher.encryptRuns/decryptRuns), alternately encrypted and
 *   decrypted.
 * - node_xts_mb_s: createCipheriv('aes-128-xts') + update over 1 MiB in one call + final.
 * - line_ratio, batch_ratio: line (batch) over node in the same round; information only
 *   except line_ratio (demand misses still cross the engine one line at a time). The
 *   memory path as a whole is measured by the `memory` section.
 * MB = 1e6 bytes. After a 250 ms warm-up each, the three are measured in interleaved
 * 60 ms slices (15 rounds; about 3.5 s in all), so load on shared cores hits them alike;
 * every figure is the median over the rounds.
 */
import { createCipheriv } from 'node:crypto';
import { XtsCipher } from '../arch/x86/hw/crypto/xts.js';
import { Rng } from '../arch/x86/hw/rng.js';
import { measureInterleaved, median, medianRatio, Meter, type Goals } from './types.js';

export const goals: Goals = {
  line_ratio: { min: 0.08 },
};

const ROUNDS = 15;
const SLICE_MS = 60;
/** Long enough for the WebAssembly routine to reach its optimising tier even on busy cores. */
const WARM_MS = 250;
const BUF_BYTES = 1 << 20;
const SAMPLES = 4096; // precomputed random addresses/offsets, cycled

export async function run(): Promise<Record<string, number>> {
  const rng = new Rng(0x6d6b746d);
  const key = rng.fill(new Uint8Array(32));
  const cipher = new XtsCipher(key.subarray(0, 16), key.subarray(16));
  const src = rng.fill(new Uint8Array(BUF_BYTES));
  const dst = new Uint8Array(BUF_BYTES);

  // Random line/page addresses below 2^46 and random offsets inside the buffers.
  const lineAddr = new Float64Array(SAMPLES);
  const lineOff = new Uint32Array(SAMPLES);
  const runAddr = new Float64Array(SAMPLES);
  const runOff = new Uint32Array(SAMPLES);
  for (let i = 0; i < SAMPLES; i++) {
    const hi = rng.below(1 << 14) * 2 ** 32;
    lineAddr[i] = hi + rng.below(1 << 26) * 64;
    lineOff[i] = rng.below(BUF_BYTES / 64) * 64;
    runOff[i] = rng.below(BUF_BYTES / 4096) * 4096;
    runAddr[i] = rng.below(1 << 14) * 2 ** 32 + rng.below(1 << 20) * 4096;
  }
  const run64 = new Int32Array(SAMPLES).fill(64);

  let li = 0;
  const line = new Meter(() => {
    const k = li++ & (SAMPLES - 1);
    cipher.encryptLine(lineAddr[k], src, lineOff[k], dst, lineOff[k]);
    cipher.decryptLine(lineAddr[k], dst, lineOff[k], dst, lineOff[k]);
  }, 128);
  let pi = 0;
  const batch = new Meter(() => {
    const k = pi++ & (SAMPLES - 1);
    cipher.encryptRuns(runAddr, run64, k, 1, src, runOff[k], dst, runOff[k]);
    cipher.decryptRuns(runAddr, run64, k, 1, dst, runOff[k], dst, runOff[k]);
  }, 8192);
  const mib = rng.fill(new Uint8Array(1 << 20));
  const iv = new Uint8Array(16);
  const nodeXts = new Meter(() => {
    const c = createCipheriv('aes-128-xts', key, iv);
    c.update(mib);
    c.final();
  }, 1 << 20);

  measureInterleaved([line, batch, nodeXts], ROUNDS, SLICE_MS, WARM_MS);
  cipher.destroy();
  key.fill(0);

  return {
    line_mb_s: median(line.slices),
    batch_mb_s: median(batch.slices),
    node_xts_mb_s: median(nodeXts.slices),
    line_ratio: medianRatio(line, nodeXts),
    batch_ratio: medianRatio(batch, nodeXts),
  };
}
