/**
 * The machine's latency and bandwidth model: what each memory event costs in virtual
 * time (TSC cycles at the nominal 2 GHz of clock.ts). The machine is in order and
 * charges each event when it happens; `perf stat`, `stream` and `lat_mem_rd` read the
 * result through RDTSC.
 *
 * Where the engine sits decides where encryption costs: between the memory controller
 * and the DIMMs (Intel Architecture Memory Encryption Technologies Specification, rev 1.3,
 * TME introduction: the engine "is in the direct data path to external memory buses").
 * A cache hit never reaches it, so it costs the same under
 * every KeyID, encrypted or not; only transfers between the caches and memory pay, and
 * only those the engine actually runs through AES (not TME off, TME bypass, the
 * exclusion range, or a no-encrypt KeyID). Cache-resident work is therefore as fast
 * under encryption as without; streaming and pointer chasing pay per line: the
 * article's "the performance impact depends strongly on the workload".
 *
 * Each number, its source or its stated assumption:
 *
 *   CACHE_HIT        4   A load that hits the cache. The machine has one cache level per
 *                        package; 4 cycles is the L1D load-to-use latency of recent
 *                        Intel cores (Intel 64 and IA-32 Architectures Optimization
 *                        Reference Manual, Table 2-4 for Sunny Cove: 5 cycles, 4 for
 *                        simple addressing). An LLC hit (about 50-70 cycles on Xeon SP,
 *                        same manual) has no separate level here: assumption.
 *   DRAM_LINE      200   A demand fill or a write-back of one line: 100 ns at 2 GHz, the
 *                        order of Intel Memory Latency Checker's idle local latency on
 *                        two-socket Xeon SP (80-100 ns; assumption, a round figure).
 *                        Write-backs are charged in full too (the in-order machine has no
 *                        store buffer to hide them): a stated simplification.
 *   STREAM_LINE     10   A fill that continues a sequential stream (the line after the
 *                        package's previous fill, same KeyID: what the stream prefetcher
 *                        covers) is bandwidth-bound, not latency-bound: 64 bytes per 5 ns,
 *                        12.8 GB/s per memory controller, about one DDR4-1600 channel
 *                        (JEDEC JESD79-4: 1600 MT/s x 8 bytes). Assumption: one channel
 *                        per node, so the model's STREAM stays in one controller's range.
 *   ENGINE_LINE     20   The engine's added latency on a demand fill or a write-back of
 *                        a line it encrypts or decrypts: 10 ns, an AES-XTS-128 pipeline of
 *                        10 rounds plus the tweak at the uncore clock. Intel publishes no
 *                        figure (assumption; spec rev 1.3, IA32_TME_ACTIVATE bit 31,
 *                        notes only that bypass avoids the encryption/decryption latency
 *                        for KeyID 0 on some processors).
 *   ENGINE_STREAM    4   The engine's cost per line in a stream: pipelined, so only its
 *                        throughput shows, one line per 2 ns (assumption, a quarter of
 *                        the stream's line time: the engine is not the bottleneck).
 *   FLUSH_LINE      50   CLFLUSH of one line, before any write-back it causes (the
 *                        optimisation manual lists CLFLUSH throughput in the tens of
 *                        cycles; assumption).
 *   WALK_LEVEL       4   Each paging-structure entry a walk loads: four for a whole walk,
 *                        one when the PDE cache holds the region (psc.ts; assumption;
 *                        each entry's load also goes through the cache).
 *   INSN             1   Every other instruction, and each block move's issue.
 */
export const TIMING = {
  CACHE_HIT: 4,
  DRAM_LINE: 200,
  STREAM_LINE: 10,
  ENGINE_LINE: 20,
  ENGINE_STREAM: 4,
  FLUSH_LINE: 50,
  WALK_LEVEL: 4,
  INSN: 1,
} as const;

/** Cycles for one line moving between a cache and memory. */
export function transferCycles(encrypted: boolean, streaming: boolean): number {
  if (streaming) return TIMING.STREAM_LINE + (encrypted ? TIMING.ENGINE_STREAM : 0);
  return TIMING.DRAM_LINE + (encrypted ? TIMING.ENGINE_LINE : 0);
}
