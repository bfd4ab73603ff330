/**
 * devmem: read or write physical memory through /dev/mem, as root's tools do: open
 * /dev/mem, pread/pwrite at the physical address. The kernel's /dev/mem driver
 * (drivers/char/mem.ts) goes through the direct mapping of the KeyID, so every access
 * goes through the caches and the MKTME engine like any kernel load or store. The
 * KeyID is part of the physical address on MKTME: -k KEYID reads offset
 * ADDR | KEYID << keyid_shift.
 *
 *   devmem [-k KEYID] ADDR [LEN]      hexdump LEN bytes (default 64, at most 64K)
 *   devmem -w [-k KEYID] ADDR HEX     store the bytes (ordinary stores into the cache)
 *
 * Reading a page through a KeyID other than the one that wrote it shows what MKTME
 * promises: garbage, not the data. Opening /dev/mem needs its mode (root:kmem 0640)
 * and CAP_SYS_RAWIO, checked by the kernel; a refusal prints busybox devmem's words,
 * "devmem: can't open '/dev/mem': Permission denied". An address outside the direct
 * mapping or a KeyID without one is refused ("devmem: ...", status 1); nothing is
 * touched then.
 */
import { direct_mapping_keyids } from '../../arch/x86/include/asm/page.js';
import { devmem_offset } from '../../drivers/char/mem.js';
import { O_RDONLY, O_RDWR } from '../../fs/open.js';
import { sys_pread64, sys_pwrite64 } from '../../fs/read_write.js';
import { EFAULT, strerror } from '../../kernel/errno.js';
import { CommandError, UsageError, type Command } from '../registry.js';
import type { KernelShellContext } from '../context.js';
import { with_open } from '../lib/file.js';
import { formatHex, formatHexdump, parseHexBytes, parseNumber, parseSize } from '../lib/parse.js';

const DEFAULT_LEN = 64;
const MAX_LEN = 64 * 1024;

export const devmemCommand: Command<KernelShellContext> = {
  name: 'devmem',
  usage: 'devmem [-w] [-k KEYID] ADDR [LEN|HEX]',
  summary: 'read or write physical memory through /dev/mem (needs CAP_SYS_RAWIO)',
  help: 'Without -w, hexdump LEN bytes (default 64) at physical ADDR as read through the\n' +
    'direct mapping of KEYID (default 0). With -w, store the HEX bytes there.\n' +
    'Data written through one KeyID reads back as garbage through another.',
  run(ctx, args, io) {
    let write = false;
    let keyidArg: string | null = null;
    const rest: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a === '-w') write = true;
      else if (a === '-k') {
        if (i + 1 >= args.length) throw new UsageError('-k needs a KEYID');
        keyidArg = args[++i];
      } else if (a.startsWith('-') && a.length > 1) throw new UsageError(`unknown option '${a}'`);
      else rest.push(a);
    }
    if (rest.length < 1 || rest.length > 2 || (write && rest.length !== 2)) {
      throw new UsageError(write ? 'devmem -w needs ADDR and HEX' : 'expected ADDR [LEN]');
    }
    let keyid = 0;
    if (keyidArg !== null) {
      const k = parseNumber(keyidArg);
      if (!k.ok) throw new CommandError(`bad KeyID: ${k.error}`);
      keyid = k.value;
    }
    const mapped = direct_mapping_keyids();
    if (keyid >= mapped) {
      throw new CommandError(mapped > 1
        ? `KeyID ${keyid} has no direct mapping (KeyIDs 0..${mapped - 1})`
        : `KeyID ${keyid} has no direct mapping (MKTME is off: KeyID 0 only)`);
    }
    const addr = parseNumber(rest[0]);
    if (!addr.ok) throw new CommandError(`bad address: ${addr.error}`);
    let bytes: Uint8Array;
    if (write) {
      const h = parseHexBytes(rest[1]);
      if (!h.ok) throw new UsageError(h.error);
      bytes = h.value;
    } else {
      const len = rest.length > 1 ? parseSize(rest[1]) : { ok: true as const, value: DEFAULT_LEN };
      if (!len.ok) throw new UsageError(len.error);
      if (len.value < 1 || len.value > MAX_LEN) throw new UsageError(`LEN must be 1..${MAX_LEN}`);
      bytes = new Uint8Array(len.value);
    }
    const a = addr.value;
    const pos = devmem_offset(a, keyid);
    const r = with_open(ctx, '/dev/mem', write ? O_RDWR : O_RDONLY, (fd) =>
      (write ? sys_pwrite64(fd, bytes, pos) : sys_pread64(fd, bytes, pos)));
    if (!r.ok) throw new CommandError(`can't open '/dev/mem': ${strerror(r.errno)}`);
    if (r.value === -EFAULT) throw new CommandError(`${formatHex(a)}: not in the direct mapping (no memory there)`);
    if (r.value < 0) throw new CommandError(`${formatHex(a)}: ${strerror(r.value)}`);
    if (write) {
      io.out(`wrote ${bytes.length} byte${bytes.length === 1 ? '' : 's'} at ${formatHex(a)} through KeyID ${keyid}\n`);
    } else {
      io.out(formatHexdump(a, bytes));
    }
    return 0;
  },
};
