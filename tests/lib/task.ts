/**
 * Helpers for tests that act as a process on a booted kernel (tests/lib/boot.ts): run
 * as a task, fork it, user-space reads and writes, and mktme keys through the key
 * service's system calls.
 */
import {
  KEY_SPEC_SESSION_KEYRING, KEYCTL_REVOKE, add_key, keyctl, mktme_keyid_info, type key_cred,
} from '../../kernel/keys/index.js';
import { IS_ERR } from '../../kernel/err.js';
import { find_task_by_vpid, run_as, type task_struct } from '../../kernel/sched.js';
import { kernel_clone } from '../../kernel/fork.js';
import { user_fetch, user_read, user_write, type user_result } from '../../mm/uaccess.js';

/** Add an mktme key as `cred` to its session keyring: its serial (or -errno). */
export function add_mktme_key(cred: key_cred, desc: string, options = 'type=cpu algorithm=aes-xts-128'): number {
  return add_key(cred, 'mktme', desc, enc(options), KEY_SPEC_SESSION_KEYRING);
}

export function revoke_key(cred: key_cred, serial: number): number {
  return keyctl(cred, KEYCTL_REVOKE, serial);
}

/** References held on a KeyID (the key's own, VMAs', pages'), or -1. */
export function keyid_refs(keyid: number): number {
  const i = mktme_keyid_info(keyid);
  return IS_ERR(i) ? -1 : i.refs;
}

export function as<T>(tsk: task_struct, fn: () => T): T { return run_as(tsk, fn); }

export function fork(tsk: task_struct): task_struct {
  const pid = run_as(tsk, () => kernel_clone(tsk));
  if (pid < 0) throw new Error(`fork failed: ${pid}`);
  return find_task_by_vpid(pid)!;
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

export function uread(tsk: task_struct, va: number, len: number): user_result<Uint8Array> { return user_read(tsk, va, len); }
export function uwrite(tsk: task_struct, va: number, s: string | Uint8Array): user_result<void> {
  return user_write(tsk, va, typeof s === 'string' ? enc(s) : s);
}
export function ufetch(tsk: task_struct, va: number, len: number): user_result<Uint8Array> { return user_fetch(tsk, va, len); }
