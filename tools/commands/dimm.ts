/**
 * dimm: the physical attacker's tool. It reads and writes the DIMMs' raw bytes (DRAM
 * and NVRAM) through the machine's probe, outside the kernel and outside the caches:
 * what it sees is what is on the memory bus, ciphertext once TME is active.
 *
 *   dimm read ADDR LEN         hexdump of raw memory (LEN at most 1M)
 *   dimm write ADDR HEX        overwrite raw bytes (tamper)
 *   dimm save ADDR LEN FILE    snapshot raw bytes into a host file (at most 256M)
 *   dimm restore FILE          write a snapshot back where it came from (replay)
 *
 * Dirty cache lines are not in the DIMMs yet: run `sync` first to see them.
 */
import * as fs from 'node:fs';
import { formatHexdump, parseHexBytes, parseNumber, parseSize } from '../lib/parse.js';
import { CommandError, UsageError, type Command } from '../registry.js';
import { board, type KernelShellContext } from '../context.js';

const MAX_READ = 1024 * 1024;
const MAX_SAVE = 256 * 1024 * 1024;
const MAGIC = 'mktme-dimm-snapshot';

function addrArg(s: string): number {
  const r = parseNumber(s);
  if (!r.ok) throw new UsageError(`ADDR: ${r.error}`);
  return r.value;
}

function lenArg(s: string, max: number): number {
  const r = parseSize(s);
  if (!r.ok) throw new UsageError(`LEN: ${r.error}`);
  if (r.value === 0 || r.value > max) throw new UsageError(`LEN must be 1..${max}, not '${s}'`);
  return r.value;
}

function range(addr: number, len: number): string {
  return `[mem 0x${addr.toString(16).padStart(16, '0')}-0x${(addr + len - 1).toString(16).padStart(16, '0')}]`;
}

function hostError(path: string, e: unknown): CommandError {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  const text = code === 'ENOENT' ? 'No such file or directory'
    : code === 'EACCES' ? 'Permission denied'
      : code === 'EISDIR' ? 'Is a directory'
        : e instanceof Error ? e.message : String(e);
  return new CommandError(`${path}: ${text}`);
}

export const dimmCommand: Command<KernelShellContext> = {
  name: 'dimm',
  usage: 'dimm read ADDR LEN | write ADDR HEX | save ADDR LEN FILE | restore FILE',
  summary: 'physical attacker, outside the OS: read, tamper with, snapshot or replay raw DIMM contents',
  run(ctx, args, io) {
    const probe = board(ctx).probe;
    const [sub, ...rest] = args;
    switch (sub) {
      case 'read': {
        if (rest.length !== 2) throw new UsageError('read needs ADDR LEN');
        const addr = addrArg(rest[0]);
        const len = lenArg(rest[1], MAX_READ);
        const bytes = probe.read(addr, len);
        if (!bytes) throw new CommandError(`no DIMM behind all of ${range(addr, len)}`);
        io.out(formatHexdump(addr, bytes));
        return 0;
      }
      case 'write': {
        if (rest.length !== 2) throw new UsageError('write needs ADDR HEX');
        const addr = addrArg(rest[0]);
        const r = parseHexBytes(rest[1]);
        if (!r.ok) throw new UsageError(`HEX: ${r.error}`);
        if (!probe.write(addr, r.value)) throw new CommandError(`no DIMM behind all of ${range(addr, r.value.length)}`);
        return 0;
      }
      case 'save': {
        if (rest.length !== 3) throw new UsageError('save needs ADDR LEN FILE');
        const addr = addrArg(rest[0]);
        const len = lenArg(rest[1], MAX_SAVE);
        const bytes = probe.read(addr, len);
        if (!bytes) throw new CommandError(`no DIMM behind all of ${range(addr, len)}`);
        const header = Buffer.from(`${MAGIC} addr=0x${addr.toString(16)} len=${len}\n`);
        try {
          fs.writeFileSync(rest[2], Buffer.concat([header, bytes]));
        } catch (e) {
          throw hostError(rest[2], e);
        }
        return 0;
      }
      case 'restore': {
        if (rest.length !== 1) throw new UsageError('restore needs FILE');
        let data: Buffer;
        try {
          data = fs.readFileSync(rest[0]);
        } catch (e) {
          throw hostError(rest[0], e);
        }
        const nl = data.indexOf(0x0a);
        const m = nl > 0 ? new RegExp(`^${MAGIC} addr=0x([0-9a-f]+) len=([0-9]+)$`).exec(data.subarray(0, nl).toString('latin1')) : null;
        if (!m || data.length - nl - 1 !== Number(m[2])) throw new CommandError(`${rest[0]}: not a dimm snapshot`);
        const addr = parseInt(m[1], 16);
        const bytes = new Uint8Array(data.subarray(nl + 1));
        if (!probe.write(addr, bytes)) throw new CommandError(`no DIMM behind all of ${range(addr, bytes.length)}`);
        return 0;
      }
      default:
        throw new UsageError(sub === undefined ? 'missing subcommand' : `unknown subcommand '${sub}'`);
    }
  },
};
