/**
 * The "user" key type (Linux security/keys/user_defined.c): an opaque blob of 1..32767
 * bytes that userspace can add, update and read back. Payload copies are wiped when
 * they are replaced, revoked or destroyed.
 */
import { EINVAL } from './uapi.js';
import type { key, key_preparsed_payload, key_type } from './types.js';
import { key_is_positive, key_payload_reserve } from './key.js';

/** Largest user-key payload (user_preparse). */
export const USER_KEY_MAX_DATALEN = 32767;

/** Check and copy the payload (user_preparse). 0 or -EINVAL. */
export function user_preparse(prep: key_preparsed_payload): number {
  const datalen = prep.datalen;
  if (datalen <= 0 || datalen > USER_KEY_MAX_DATALEN || !prep.data) return -EINVAL;
  prep.quotalen = datalen;
  prep.payload = prep.data.slice(0, datalen);
  return 0;
}

/** Wipe a payload that was not consumed (user_free_preparse uses kfree_sensitive). */
export function user_free_preparse(prep: key_preparsed_payload): void {
  if (prep.payload instanceof Uint8Array) prep.payload.fill(0);
  prep.payload = null;
}

/** Charge the quota and attach the payload (generic_key_instantiate). */
export function generic_key_instantiate(k: key, prep: key_preparsed_payload): number {
  const ret = key_payload_reserve(k, prep.quotalen);
  if (ret === 0) {
    k.payload = prep.payload;
    prep.payload = null;
  }
  return ret;
}

/** Replace the payload; the new data also clears any timeout (user_update). */
export function user_update(k: key, prep: key_preparsed_payload): number {
  const ret = key_payload_reserve(k, prep.datalen);
  if (ret < 0) return ret;
  k.expiry = prep.expiry;
  const old = k.payload;
  k.payload = prep.payload;
  prep.payload = null;
  if (old instanceof Uint8Array) old.fill(0);
  return 0;
}

/** Drop the payload of a revoked key (user_revoke). */
export function user_revoke(k: key): void {
  key_payload_reserve(k, 0);
  if (k.payload instanceof Uint8Array) k.payload.fill(0);
  k.payload = null;
}

export function user_destroy(k: key): void {
  if (k.payload instanceof Uint8Array) k.payload.fill(0);
  k.payload = null;
}

/** "description: datalen" in /proc/keys (user_describe). */
export function user_describe(k: key): string {
  return key_is_positive(k) ? `${k.description}: ${k.datalen}` : k.description;
}

/** Copy out as much as fits; return the payload length (user_read). */
export function user_read(k: key, buffer: Uint8Array | null): number {
  const data = k.payload instanceof Uint8Array ? k.payload : new Uint8Array(0);
  if (buffer && buffer.length > 0) buffer.set(data.subarray(0, Math.min(buffer.length, data.length)));
  return data.length;
}

export const key_type_user: key_type = {
  name: 'user',
  def_datalen: 0,
  preparse: user_preparse,
  free_preparse: user_free_preparse,
  instantiate: generic_key_instantiate,
  update: user_update,
  revoke: user_revoke,
  destroy: user_destroy,
  describe: user_describe,
  read: user_read,
};

/**
 * "logon" descriptions must be "service:key", with a non-empty service prefix
 * (logon_vet_description).
 */
export function logon_vet_description(desc: string): number {
  const p = desc.indexOf(':');
  return p <= 0 ? -EINVAL : 0;
}

/**
 * The "logon" key type (Linux security/keys/user_defined.c, key_type_logon): a user key
 * whose payload the kernel uses (e.g. for filesystem credentials) but never hands back
 * to user space: there is no read(), so KEYCTL_READ gives -EOPNOTSUPP.
 */
export const key_type_logon: key_type = {
  ...key_type_user,
  name: 'logon',
  vet_description: logon_vet_description,
  read: undefined,
};
