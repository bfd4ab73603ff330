/**
 * Notifier chains (Linux kernel/notifier.c, include/linux/notifier.h): an ordered list of
 * callbacks a subsystem runs on an event, highest priority first. A callback returns
 * NOTIFY_DONE/NOTIFY_OK, or an error as notifier_from_errno(-E...), which stops the chain.
 */

export const NOTIFY_DONE = 0x0000;
export const NOTIFY_OK = 0x0001;
export const NOTIFY_STOP_MASK = 0x8000;
export const NOTIFY_BAD = NOTIFY_STOP_MASK | 0x0002;

export interface notifier_block {
  notifier_call(action: number): number;
  /** Higher runs first; 0 by default. */
  priority?: number;
}

/** notifier_from_errno(): a callback's way to report -errno. */
export function notifier_from_errno(err: number): number {
  return err ? NOTIFY_STOP_MASK | (NOTIFY_OK - err) : NOTIFY_OK;
}

/** notifier_to_errno(): the -errno a chain's result carries, or 0. */
export function notifier_to_errno(ret: number): number {
  const r = ret & ~NOTIFY_STOP_MASK;
  return r > NOTIFY_OK ? NOTIFY_OK - r : 0;
}

/** A blocking notifier chain's head. */
export interface notifier_head { chain: notifier_block[] }

/** notifier_chain_register(): insert by priority; a block already there is not added again. */
export function notifier_chain_register(nh: notifier_head, nb: notifier_block): void {
  if (nh.chain.includes(nb)) return;
  const i = nh.chain.findIndex((b) => (b.priority ?? 0) < (nb.priority ?? 0));
  nh.chain.splice(i < 0 ? nh.chain.length : i, 0, nb);
}

/** notifier_call_chain(): run the callbacks until one sets NOTIFY_STOP_MASK; the last result. */
export function notifier_call_chain(nh: notifier_head, action: number): number {
  let ret = NOTIFY_DONE;
  for (const nb of [...nh.chain]) {
    ret = nb.notifier_call(action);
    if (ret & NOTIFY_STOP_MASK) break;
  }
  return ret;
}
