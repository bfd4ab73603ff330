/**
 * stat: the machine's event counters: lines each package's MKTME engine encrypted and
 * decrypted per KeyID (rows that are not all zero), cache and TLB events, and PCONFIG
 * executions by result. `stat --reset` zeroes them all (printing nothing).
 */
import { UsageError, type Command } from '../registry.js';
import { board, type KernelShellContext } from '../context.js';

/** PCONFIG RAX values (MKTME_PROG_SUCCESS .. MKTME_DEVICE_BUSY). */
const STATUS_NAMES = ['success', 'invalid-command', 'entropy-error', 'invalid-keyid', 'invalid-alg', 'device-busy'];

export const statCommand: Command<KernelShellContext> = {
  name: 'stat',
  usage: 'stat [--reset]',
  summary: 'machine counters: engine lines per KeyID, caches, TLBs, PCONFIG',
  run(ctx, args, io) {
    if (args.length > 1 || (args.length === 1 && args[0] !== '--reset')) throw new UsageError();
    const m = board(ctx);
    if (args.length === 1) {
      m.counters.reset();
      for (const p of m.packages) { p.engine.encLines.fill(0); p.engine.decLines.fill(0); }
      return 0;
    }
    const rows: string[][] = [['package', 'keyid', 'encrypted', 'decrypted']];
    for (const p of m.packages) {
      const { encLines, decLines } = p.engine;
      for (let k = 0; k < encLines.length; k++) {
        if (encLines[k] || decLines[k]) rows.push([String(p.index), String(k), String(encLines[k]), String(decLines[k])]);
      }
    }
    const width = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    let out = 'engine lines:\n';
    for (const r of rows) out += '  ' + r.map((s, i) => s.padStart(width[i])).join('  ') + '\n';
    const c = m.counters;
    out += `cache: ${c.cacheHits} hits, ${c.cacheMisses} misses, ${c.cacheWritebacks} writebacks, ${c.cacheFlushes} flushes\n`;
    out += `tlb: ${c.tlbHits} hits, ${c.tlbMisses} misses\n`;
    const results = [...c.pconfigByResult.entries()].sort((a, b) => a[0] - b[0])
      .map(([rax, n]) => `${n} ${STATUS_NAMES[rax] ?? `status-${rax}`}`);
    const total = [...c.pconfigByResult.values()].reduce((a, b) => a + b, 0) + c.pconfigFaults;
    out += `pconfig: ${total} executions` + (results.length ? `: ${results.join(', ')}` : '') +
      `, ${c.pconfigFaults} faults\n`;
    io.out(out);
    return 0;
  },
};

