/**
 * cache: what a cache side channel sees (the threat model's "plaintext in caches",
 * L1TF-style). For the line holding physical address ADDR it lists every copy held in
 * any package's cache, under every KeyID alias, with its plaintext. The engine sits
 * below the caches, so whatever is cached is readable here whatever the key; `sync`
 * (WBINVD) empties the caches.
 *
 *   cache ADDR     ADDR is a physical address without KeyID bits
 *
 * Like `dimm`, this is the machine owner's instrument, outside the kernel.
 */
import { formatHexdump, parseNumber } from '../lib/parse.js';
import { UsageError, type Command } from '../registry.js';
import { board, type KernelShellContext } from '../context.js';

export const cacheCommand: Command<KernelShellContext> = {
  name: 'cache',
  usage: 'cache ADDR',
  summary: 'physical attacker, outside the OS: the plaintext cached for a line under every KeyID',
  run(ctx, args, io) {
    if (args.length !== 1) throw new UsageError();
    const r = parseNumber(args[0]);
    if (!r.ok) throw new UsageError(`ADDR: ${r.error}`);
    const m = board(ctx);
    const eng = m.packages[0].engine;
    if (r.value >= 2 ** eng.addrBits) throw new UsageError('ADDR must not carry KeyID bits');
    const line = r.value - (r.value % 64);
    const keyids = eng.keyIdBits === 0 ? 1 : 2 ** eng.keyIdBits;
    let found = 0;
    for (let k = 0; k < keyids; k++) {
      for (const hit of m.caches.peek(k * 2 ** eng.addrBits + line)) {
        io.out(`package ${hit.pkg} keyid ${k}${hit.dirty ? ' dirty' : ''}:\n`);
        io.out(formatHexdump(line, hit.data));
        found++;
      }
    }
    if (found === 0) io.out(`line 0x${line.toString(16)} is not cached\n`);
    return 0;
  },
};
