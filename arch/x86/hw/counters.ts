/**
 * Machine-wide event counters, read by the `stat` tool and the tests. Engine counters
 * (lines encrypted/decrypted per KeyID) live in each engine; these are the rest.
 */
export class Counters {
  cacheHits = 0;
  cacheMisses = 0;
  cacheWritebacks = 0;
  cacheFlushes = 0;
  tlbHits = 0;
  tlbMisses = 0;
  /** PCONFIG executions that completed, by RAX (0 success, 2 entropy, 5 busy, ...). */
  readonly pconfigByResult = new Map<number, number>();
  /** PCONFIG executions that faulted (#UD/#GP/#PF). */
  pconfigFaults = 0;

  reset(): void {
    this.cacheHits = this.cacheMisses = this.cacheWritebacks = this.cacheFlushes = 0;
    this.tlbHits = this.tlbMisses = 0;
    this.pconfigByResult.clear();
    this.pconfigFaults = 0;
  }
}
