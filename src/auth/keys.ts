/**
 * API keys: their form, how they are made, stored and checked.
 *
 * A key is `owl_` followed by 43 base64url characters (32 random bytes). Only the SHA-256 of the
 * whole key is stored, with its first PREFIX_LENGTH characters in clear to tell keys apart. A
 * presented key is hashed and looked up by that hash, then the hashes are compared in constant
 * time; a key that matches no row is compared against a dummy hash, so a wrong key costs the same
 * whether or not its prefix belongs to a real key (bench/auth-timing.ts measures it).
 */
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiKey, KeyStore, Scope, StoredApiKey } from '../store/types.ts';

export const KEY_PREFIX = 'owl_';
/** Characters of a key kept in clear (`owl_` and 8 more): enough to tell keys apart, useless to guess the rest. */
export const PREFIX_LENGTH = 12;
const KEY_RE = /^owl_[A-Za-z0-9_-]{43}$/;
const KEY_LENGTH = 47;

/** The scopes and what each allows (the README's table is generated from the same words). */
export const SCOPES: Record<Scope, string> = {
  'jobs:read': "read the key's own jobs, their pages, exports and live events, and the sites of its jobs",
  'jobs:write': "create jobs, and cancel, fail and delete the key's own jobs; scrape one URL (POST /scrape)",
  admin: 'everything: every job of every key, API keys (create, list, revoke) and the audit trail',
};

export function isScope(s: string): s is Scope {
  return Object.hasOwn(SCOPES, s);
}

/** A new random key (32 bytes of randomness). */
export function generateKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

/** SHA-256 of a key, hex (crypto.hash: a third of createHash's cost per call here). */
export function hashKey(key: string): string {
  return hash('sha256', key, 'hex');
}

export function keyPrefix(key: string): string {
  return key.slice(0, PREFIX_LENGTH);
}

/** Whether a string has the form of a key (the structure is public; nothing secret is compared). */
export function looksLikeKey(s: string): boolean {
  return s.length === KEY_LENGTH && s.startsWith(KEY_PREFIX) && KEY_RE.test(s);
}

const DUMMY_HASH = hashKey(`${KEY_PREFIX}${'0'.repeat(43)}`);

/** Constant-time equality of two hex digests of the same length. */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Constant-time equality of two strings of the same length: as many steps whatever the contents,
 * no early exit (the Authorization header of a request is compared this way with the one verified
 * on its connection, instead of hashing the key again).
 */
export function sameKey(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Why a stored key is refused now, or null when it is usable. */
export function keyState(key: Pick<StoredApiKey, 'revokedAt' | 'expiresAt'>, now: number): 'revoked' | 'expired' | null {
  if (key.revokedAt !== null) return 'revoked';
  if (key.expiresAt !== null && key.expiresAt <= now) return 'expired';
  return null;
}

export type Verdict =
  | { ok: true; key: StoredApiKey }
  | { ok: false; reason: 'malformed' | 'unknown' | 'revoked' | 'expired' };

/**
 * Checks a presented key: the stored key it is, or why it is refused. A revoked or expired key is
 * told apart from an unknown one only after its full hash matched (the holder of a real key may
 * learn that it is revoked; a guesser learns nothing).
 */
export async function verifyKey(keys: Pick<KeyStore, 'findByHash'>, presented: string, now: number): Promise<Verdict> {
  if (!looksLikeKey(presented)) return { ok: false, reason: 'malformed' };
  return verifyDigest(keys, hashKey(presented), now);
}

/** verifyKey for a key already hashed (the auth hook hashes once for its cache and the store). */
export async function verifyDigest(keys: Pick<KeyStore, 'findByHash'>, digest: string, now: number): Promise<Verdict> {
  const row = await keys.findByHash(digest);
  const same = sameDigest(row ? row.hash : DUMMY_HASH, digest);
  if (!row || !same) return { ok: false, reason: 'unknown' };
  const state = keyState(row, now);
  return state === null ? { ok: true, key: row } : { ok: false, reason: state };
}

/** The part of a key any lister may see. */
export function publicKey(key: ApiKey | StoredApiKey): ApiKey {
  const { hash: _hash, ...rest } = key as StoredApiKey;
  return rest;
}
