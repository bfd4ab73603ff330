/**
 * Boot entry of the key service (Linux security/keys/key.c: key_init): reset all key
 * state (the MKTME KeyID pool included) and register the built-in "keyring", "user" and "logon"
 * types. Call it once per boot, before init_mktme() and before the first task's
 * credentials use a keyring.
 */
import { key_service_reset, register_key_type, type key_service_options } from './key.js';
import { key_type_keyring } from './keyring.js';
import { key_type_logon, key_type_user } from './user_defined.js';
import { mktme_keyid_shutdown } from './mktme_keyid.js';

export type { key_service_options };

export function key_init(opts: key_service_options): void {
  key_service_reset(opts);
  mktme_keyid_shutdown(); // no KeyIDs until init_mktme() for this boot
  register_key_type(key_type_keyring);
  register_key_type(key_type_user);
  register_key_type(key_type_logon);
}
