/**
 * The "mktme" key type (Linux: security/keys/mktme_keys.c of the MKTME series, with the
 * option set of the 2018-2019 RFCs, security/keys/mktme_keys.c of Alison Schofield's
 * "MKTME Key Service" patches). Each key owns one hardware KeyID,
 * programmed into every package when the key is added:
 *
 *   add_key("mktme", "name", "type=cpu algorithm=aes-xts-128", @u)
 *
 * Payload options, separated by spaces or tabs, each at most once:
 *   type=user|cpu|clear|no-encrypt   required
 *   algorithm=aes-xts-128|aes-xts-256 required for user and cpu; must be enabled by the BIOS
 *   key=HEX tweak=HEX                 type=user only, both required: 16 bytes (-128) or 32 (-256)
 *   entropy=HEX                       type=cpu only, optional: XOR-ed into the CPU's random key
 * Anything else is -EINVAL; callers without CAP_SYS_RESOURCE/CAP_SYS_ADMIN get -EACCES;
 * no free KeyID or failed programming gives -ENOKEY.
 *
 * The key keeps no key material: it goes from the payload to the programming fields
 * and is wiped (unless mktme_storekeys keeps "user" keys for reprogramming). READ is
 * -EOPNOTSUPP (no read method); /proc/keys and DESCRIBE show only the description.
 */
import { EACCES, EINVAL, ENOKEY } from './uapi.js';
import type { key, key_preparsed_payload, key_type } from './types.js';
import { register_key_type } from './key.js';
import { CAP_SYS_ADMIN, CAP_SYS_RESOURCE, capable } from './permission.js';
import { user_describe } from './user_defined.js';
import {
  MKTME_KEYID_CLEAR_KEY, MKTME_KEYID_NO_ENCRYPT, MKTME_KEYID_SET_KEY_DIRECT, MKTME_KEYID_SET_KEY_RANDOM,
  mktme_key_algs, mktme_any_activated_alg, mktme_keyid_activate, mktme_keyid_from_key, mktme_keyid_kill,
  mktme_keyid_reset, mktme_program_keyid, mktme_release_keyid, mktme_reserve_keyid, type mktme_hw_ops,
} from './mktme_keyid.js';

/** Largest option string (mktme_preparse_payload). */
export const MKTME_MAX_PAYLOAD = 1024;

/** Algorithm names, and their bit in TME_ACTIVATE[63:48] / keyid_ctrl[23:8]. */
const mktme_alg_names = new Map<string, { bit: number; key_size: number }>([
  ['aes-xts-128', { bit: 0, key_size: 16 }],
  ['aes-xts-256', { bit: 2, key_size: 32 }],
]);
const mktme_type_names = ['user', 'cpu', 'clear', 'no-encrypt'] as const;
type mktme_type = (typeof mktme_type_names)[number];

const OPT_TYPE = 1, OPT_KEY = 2, OPT_TWEAK = 4, OPT_ALGORITHM = 8, OPT_ENTROPY = 16;
const mktme_token = new Map<string, number>([
  ['type', OPT_TYPE], ['key', OPT_KEY], ['tweak', OPT_TWEAK], ['algorithm', OPT_ALGORITHM], ['entropy', OPT_ENTROPY],
]);

/** The preparsed payload: the programming control word and the key fields. */
interface mktme_payload {
  keyid_ctrl: number;
  key_size: number;
  data_key: Uint8Array;
  tweak_key: Uint8Array;
}

function wipe(p: mktme_payload): void {
  p.data_key.fill(0);
  p.tweak_key.fill(0);
}

const ascii = (b: Uint8Array): string => String.fromCharCode(...b);

/** hex2bin into `dst`; the byte count, or -EINVAL for bad hex. Never makes a string of key bytes. */
function hex2bin(dst: Uint8Array, src: Uint8Array): number {
  if (src.length === 0 || src.length % 2 !== 0 || src.length / 2 > dst.length) return -EINVAL;
  const nib = (c: number): number =>
    c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
  for (let i = 0; i < src.length / 2; i++) {
    const hi = nib(src[2 * i]), lo = nib(src[2 * i + 1]);
    if (hi < 0 || lo < 0) return -EINVAL;
    dst[i] = (hi << 4) | lo;
  }
  return src.length / 2;
}

/** Split on spaces and tabs, skipping empty tokens (strsep(&options, " \t")). */
function tokens(options: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= options.length; i++) {
    if (i === options.length || options[i] === 0x20 || options[i] === 0x09) {
      if (i > start) out.push(options.subarray(start, i));
      start = i + 1;
    }
  }
  return out;
}

/** Parse the options into `p` (mktme_get_options + mktme_check_options). 0 or -EINVAL. */
function mktme_get_options(options: Uint8Array, p: mktme_payload): number {
  let token_mask = 0;
  let type: mktme_type | null = null;
  let alg: { bit: number; key_size: number } | null = null;
  let key_len = 0, tweak_len = 0, entropy_len = 0;
  const entropy = new Uint8Array(32);

  try {
    for (const tok of tokens(options)) {
      const eq = tok.indexOf(0x3d); // '='
      if (eq <= 0 || eq === tok.length - 1) return -EINVAL; // "name=%s" needs a value
      const token = mktme_token.get(ascii(tok.subarray(0, eq)));
      if (token === undefined) return -EINVAL;
      if (token_mask & token) return -EINVAL; // repeated
      token_mask |= token;
      const arg = tok.subarray(eq + 1);

      switch (token) {
        case OPT_TYPE: {
          const name = ascii(arg);
          if (!(mktme_type_names as readonly string[]).includes(name)) return -EINVAL;
          type = name as mktme_type;
          break;
        }
        case OPT_ALGORITHM: {
          const a = mktme_alg_names.get(ascii(arg));
          if (!a || !(mktme_key_algs() & (1 << a.bit))) return -EINVAL; // unknown or not activated
          alg = a;
          break;
        }
        case OPT_KEY:
          if ((key_len = hex2bin(p.data_key, arg)) < 0) return -EINVAL;
          break;
        case OPT_TWEAK:
          if ((tweak_len = hex2bin(p.tweak_key, arg)) < 0) return -EINVAL;
          break;
        case OPT_ENTROPY:
          if ((entropy_len = hex2bin(entropy, arg)) < 0) return -EINVAL;
          break;
      }
    }

    if (!token_mask) return -EINVAL;
    switch (type) {
      case 'user':
        if (!alg || !(token_mask & OPT_KEY) || !(token_mask & OPT_TWEAK) || (token_mask & OPT_ENTROPY)) return -EINVAL;
        if (key_len !== alg.key_size || tweak_len !== alg.key_size) return -EINVAL;
        p.keyid_ctrl = MKTME_KEYID_SET_KEY_DIRECT | ((1 << alg.bit) << 8);
        p.key_size = alg.key_size;
        return 0;
      case 'cpu':
        if (!alg || (token_mask & (OPT_KEY | OPT_TWEAK))) return -EINVAL;
        if ((token_mask & OPT_ENTROPY) && entropy_len !== alg.key_size) return -EINVAL;
        /* the entropy goes into both key fields, to be XOR-ed with the CPU's random keys */
        p.data_key.set(entropy.subarray(0, alg.key_size));
        p.tweak_key.set(entropy.subarray(0, alg.key_size));
        p.keyid_ctrl = MKTME_KEYID_SET_KEY_RANDOM | ((1 << alg.bit) << 8);
        p.key_size = alg.key_size;
        return 0;
      case 'clear':
      case 'no-encrypt':
        /* no key material; algorithm= is accepted and ignored, as in the final series */
        if (token_mask & (OPT_KEY | OPT_TWEAK | OPT_ENTROPY)) return -EINVAL;
        p.keyid_ctrl = (type === 'clear' ? MKTME_KEYID_CLEAR_KEY : MKTME_KEYID_NO_ENCRYPT) | mktme_any_activated_alg();
        p.key_size = 0;
        return 0;
      default:
        return -EINVAL; // no type=
    }
  } finally {
    entropy.fill(0);
  }
}

/**
 * Check the caller and the options before a key exists (mktme_preparse_payload).
 * 0, -EACCES (no CAP_SYS_RESOURCE/CAP_SYS_ADMIN) or -EINVAL.
 */
export function mktme_preparse_payload(prep: key_preparsed_payload): number {
  if (!capable(prep.cred, CAP_SYS_RESOURCE) && !capable(prep.cred, CAP_SYS_ADMIN)) return -EACCES;
  const data = prep.data;
  if (prep.datalen <= 0 || prep.datalen > MKTME_MAX_PAYLOAD || !data) return -EINVAL;

  /* kmemdup_nul: the options end at the first NUL */
  const nul = data.indexOf(0);
  const options = data.slice(0, nul < 0 ? prep.datalen : nul);
  const p: mktme_payload = {
    keyid_ctrl: 0, key_size: 0, data_key: new Uint8Array(32), tweak_key: new Uint8Array(32),
  };
  const ret = mktme_get_options(options, p);
  options.fill(0);
  if (ret < 0) {
    wipe(p);
    return ret;
  }
  prep.quotalen = 8; // sizeof(mktme_payload), a pointer: a quirk of the series, kept
  prep.payload = p;
  return 0;
}

export function mktme_free_preparsed_payload(prep: key_preparsed_payload): void {
  if (prep.payload) wipe(prep.payload as mktme_payload);
  prep.payload = null;
}

/**
 * Reserve a KeyID and program it on every package (mktme_instantiate_key).
 * 0, or -ENOKEY if no KeyID is free or programming failed.
 */
export function mktme_instantiate_key(k: key, prep: key_preparsed_payload): number {
  const p = prep.payload as mktme_payload;
  const keyid = mktme_reserve_keyid(k);
  if (!keyid) return -ENOKEY;
  let status: number;
  try {
    status = mktme_program_keyid(keyid, p.keyid_ctrl, p.data_key, p.tweak_key, p.key_size);
  } catch (e) {
    mktme_release_keyid(keyid); // an oops on the way: the KeyID goes back to the pool
    throw e;
  }
  if (status !== 0) {
    mktme_release_keyid(keyid);
    return -ENOKEY;
  }
  mktme_keyid_activate(keyid, p.keyid_ctrl, p.data_key, p.tweak_key);
  return 0;
}

/** Revoked or garbage collected: the key's own KeyID reference goes (mktme_destroy_key). */
export function mktme_destroy_key(k: key): void {
  const keyid = mktme_keyid_from_key(k);
  if (keyid) mktme_keyid_kill(keyid);
}

export const key_type_mktme: key_type = {
  name: 'mktme',
  def_datalen: 0,
  preparse: mktme_preparse_payload,
  free_preparse: mktme_free_preparsed_payload,
  instantiate: mktme_instantiate_key,
  describe: user_describe,
  /* the series has no .revoke; revoking here drops the KeyID reference at once */
  revoke: mktme_destroy_key,
  destroy: mktme_destroy_key,
};

export interface mktme_init_options {
  /** The mktme_storekeys boot option: keep "user" keys to reprogram packages later. */
  storekeys?: boolean;
  /** Kernel entropy mixed into CPU-generated keys (get_random_bytes); none if absent. */
  get_random_bytes?: (buf: Uint8Array) => void;
}

/**
 * Boot: set up the KeyID pool and register the "mktme" type (init_mktme). Does nothing
 * (and add_key("mktme") stays -ENODEV) when there are no usable KeyIDs or algorithms.
 * Call after key_init(). Returns 0 or -errno from register_key_type.
 */
export function init_mktme(ops: mktme_hw_ops, opts: mktme_init_options = {}): number {
  mktme_keyid_reset(ops, opts.storekeys ?? false, opts.get_random_bytes ?? null);
  if (ops.nr_keyids() < 1 || (ops.algs() & 0xffff) === 0) return 0;
  return register_key_type(key_type_mktme);
}
