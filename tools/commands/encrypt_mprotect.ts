/**
 * encrypt_mprotect: the MKTME series' system call: set PROT on [ADDR, ADDR+LEN) and
 * move it to the KeyID of the mktme key SERIAL (-1: back to KeyID 0). The range's
 * current contents are discarded; new pages are zeroed under the new KeyID.
 */
import { sys_encrypt_mprotect } from '../../mm/mprotect.js';
import { UsageError, type Command } from '../registry.js';
import type { KernelShellContext } from '../context.js';
import { as_task, check, nargs, parse_addr, parse_len, parse_prot } from '../lib/process.js';

/** A key serial: decimal (negative allowed for special IDs) or 0x hex, 32-bit signed. */
function parse_serial(s: string): number {
  let v: number;
  if (/^-?[0-9]+$/.test(s)) v = Number(s);
  else if (/^0[xX][0-9a-fA-F]+$/.test(s)) v = Number.parseInt(s.slice(2), 16);
  else throw new UsageError(`SERIAL must be a key serial number, not '${s}'`);
  if (!(v >= -(2 ** 31) && v < 2 ** 31)) throw new UsageError(`SERIAL out of range: '${s}'`);
  return v;
}

export const encryptMprotectCommand: Command<KernelShellContext> = {
  name: 'encrypt_mprotect',
  usage: 'encrypt_mprotect ADDR LEN PROT SERIAL',
  summary: 'protect and encrypt memory with an mktme key',
  help: 'ADDR and LEN must be page aligned. PROT: letters from r, w, x, or none.\n' +
    'SERIAL: an mktme key (see keyctl), or -1 for KeyID 0. The range\'s contents are lost.',
  run(ctx, args) {
    nargs(args, 4, 4);
    const addr = parse_addr(args[0]);
    const len = parse_len(args[1]);
    const prot = parse_prot(args[2]);
    const serial = parse_serial(args[3]);
    check(as_task(ctx, () => sys_encrypt_mprotect(addr, len, prot, serial)));
    return 0;
  },
};
