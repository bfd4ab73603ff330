/**
 * The key retention service's public surface (Linux include/linux/key.h and friends):
 * what boot, the process code, mm (encrypt_mprotect, page/VMA KeyID references), /proc
 * and the shell's `keyctl` call. Everything else under kernel/keys is internal.
 *
 * Boot order: key_init({ now, serial_seed }) then init_mktme(hw_ops, { storekeys }).
 * After each system call the kernel runs key_gc().
 */
export * from './uapi.js';
export { IS_ERR } from '../err.js';
export {
  KEY_FLAG_DEAD, KEY_FLAG_INVALIDATED, KEY_FLAG_REVOKED, KEY_IS_POSITIVE, KEY_IS_UNINSTANTIATED,
  TIME64_MAX, type key, type key_cred, type key_ref_t, type key_type, type key_user,
} from './types.js';
export { key_init, type key_service_options } from './init.js';
export {
  key_get, key_put, key_ref_put, key_ref_to_ptr, is_key_possessed, key_validate,
} from './key.js';
export {
  KEY_NEED_ALL, KEY_NEED_LINK, KEY_NEED_READ, KEY_NEED_SEARCH, KEY_NEED_SETATTR, KEY_NEED_VIEW,
  KEY_NEED_WRITE, key_task_permission,
} from './permission.js';
export {
  CLONE_THREAD, KEY_LOOKUP_CREATE, KEY_LOOKUP_PARTIAL, key_cred_alloc, key_cred_exec, key_cred_fork,
  key_cred_release, key_cred_setuid, lookup_user_key,
} from './process_keys.js';
export { add_key, keyctl, request_key, type keyctl_arg } from './syscalls.js';
export {
  key_describe_string, keyctl_chown_key, keyctl_describe_key, keyctl_get_keyring_ID,
  keyctl_invalidate_key, keyctl_join_session_keyring, keyctl_keyring_clear, keyctl_keyring_link,
  keyctl_keyring_search, keyctl_keyring_unlink, keyctl_read_key, keyctl_revoke_key,
  keyctl_set_timeout, keyctl_setperm_key, keyctl_update_key, keyctl_capabilities,
  keyctl_get_security,
} from './keyctl.js';
export { keyctl_get_persistent, persistent_keyring_expiry } from './persistent.js';
export {
  key_show_tree, keyctl_describe_alloc, keyctl_list_serials, keyctl_parse_describe, keyctl_read_alloc,
  type key_description, type key_tree_node,
} from './keyutils.js';
export { key_gc } from './gc.js';
export { proc_key_users_show, proc_keys_show } from './proc.js';
export { key_type_mktme, init_mktme, type mktme_init_options } from './mktme_keys.js';
export {
  KEYID_AVAILABLE, KEYID_ASSIGNED, KEYID_REF_KILLED, KEYID_REF_RELEASED,
  MKTME_AES_XTS_128, MKTME_AES_XTS_256, MKTME_DEVICE_BUSY, MKTME_ENTROPY_ERROR,
  MKTME_INVALID_ENC_ALG, MKTME_INVALID_KEYID, MKTME_INVALID_PROG_CMD, MKTME_KEY_FIELD_SIZE,
  MKTME_KEYID_CLEAR_KEY, MKTME_KEYID_NO_ENCRYPT, MKTME_KEYID_SET_KEY_DIRECT,
  MKTME_KEYID_SET_KEY_RANDOM, MKTME_PROG_SUCCESS, mktme_keyid_from_key, mktme_keyid_get,
  mktme_keyid_info, mktme_keyid_put, mktme_pool_keyids, mktme_reprogram_all, type mktme_hw_ops,
} from './mktme_keyid.js';
