/**
 * Creating and revoking keys, with their audit entries: one implementation behind POST/DELETE
 * /keys, `owl keys` on a store it opens itself, and `owl keys` through a running server's control
 * socket (control-socket.ts).
 */
import { OwlError } from '../errors.ts';
import type { ApiKey, Scope, Store } from '../store/types.ts';
import { generateKey, hashKey, isScope, keyPrefix, looksLikeKey, SCOPES } from './keys.ts';

/** What a new key is: its name, scopes, limits and expiry (the API's POST /keys body). */
export interface KeySpec {
  name: string;
  scopes: Scope[];
  rate?: number | null;
  maxRunningJobs?: number | null;
  maxPagesPerDay?: number | null;
  /** Epoch ms, or an ISO 8601 date-time (POST /keys and `--expires`). */
  expiresAt?: number | string | null;
}

/** Who does a write: a key, or the local operator (keyId null), and from which address. */
export interface Actor {
  keyId: string | null;
  address: string | null;
}

export const KEY_LIMITS = { maxNameLength: 64, maxRate: 100_000, maxRunningJobs: 100_000, maxPagesPerDay: 1_000_000_000 } as const;

function invalid(field: string, message: string): OwlError {
  return new OwlError('VALIDATION', `${field} ${message}`, { field });
}

/** Checks a key spec from any source (API body, CLI flags, control socket); throws VALIDATION naming the field. */
export function validateKeySpec(raw: Record<string, unknown>, now: number): Required<Omit<KeySpec, 'expiresAt'>> & { expiresAt: number | null } {
  const name = raw.name;
  if (typeof name !== 'string' || name.trim() === '' || name.length > KEY_LIMITS.maxNameLength || [...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
    throw invalid('name', `must be 1 to ${KEY_LIMITS.maxNameLength} printable characters`);
  }
  const scopes = raw.scopes;
  if (!Array.isArray(scopes) || scopes.length === 0) throw invalid('scopes', `must name at least one of ${Object.keys(SCOPES).join(', ')}`);
  for (const s of scopes) if (typeof s !== 'string' || !isScope(s)) throw invalid('scopes', `has an unknown scope ${JSON.stringify(s)} (known: ${Object.keys(SCOPES).join(', ')})`);
  const number = (field: 'rate' | 'maxRunningJobs' | 'maxPagesPerDay', max: number, integer: boolean): number | null => {
    const v = raw[field];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > max || (integer && !Number.isInteger(v))) {
      throw invalid(field, `must be ${integer ? 'an integer' : 'a number'} above 0 and at most ${max}`);
    }
    return v;
  };
  let expiresAt: number | null = null;
  const e = raw.expiresAt;
  if (typeof e === 'number') expiresAt = e;
  else if (typeof e === 'string') {
    // ISO 8601 date-time with a time zone (Z or ±hh:mm), so that it means one instant.
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(e) || Number.isNaN(Date.parse(e))) {
      throw invalid('expiresAt', 'must be an ISO 8601 date-time with a time zone, e.g. 2027-01-31T00:00:00Z');
    }
    expiresAt = Date.parse(e);
  } else if (e !== undefined && e !== null) throw invalid('expiresAt', 'must be an ISO 8601 date-time');
  if (expiresAt !== null && expiresAt <= now) throw invalid('expiresAt', 'is in the past');
  return {
    name: name.trim(),
    scopes: [...new Set(scopes as Scope[])],
    rate: number('rate', KEY_LIMITS.maxRate, false),
    maxRunningJobs: number('maxRunningJobs', KEY_LIMITS.maxRunningJobs, true),
    maxPagesPerDay: number('maxPagesPerDay', KEY_LIMITS.maxPagesPerDay, true),
    expiresAt,
  };
}

/** Creates a key and records it in the audit trail; the secret is in the answer and nowhere else. */
export async function createApiKey(store: Store, raw: Record<string, unknown>, actor: Actor, now: number = Date.now()): Promise<ApiKey & { key: string }> {
  const spec = validateKeySpec(raw, now);
  const key = generateKey();
  const created = await store.keys.create({ ...spec, prefix: keyPrefix(key), hash: hashKey(key) }, now);
  await store.audit.record({ at: now, keyId: actor.keyId, action: 'key.create', target: created.id, address: actor.address });
  return { ...created, key };
}

/** Revokes a key (KEY_NOT_FOUND when unknown) and records it in the audit trail. */
export async function revokeApiKey(store: Store, id: string, actor: Actor, now: number = Date.now()): Promise<ApiKey> {
  const revoked = await store.keys.revoke(id, now);
  if (!revoked) throw new OwlError('KEY_NOT_FOUND', `No API key has the id ${JSON.stringify(id.slice(0, 64))}`);
  await store.audit.record({ at: now, keyId: actor.keyId, action: 'key.revoke', target: revoked.id, address: actor.address });
  return revoked;
}

/**
 * Makes the key in OWL_BOOTSTRAP_KEY_FILE an admin key named `bootstrap`, unless a key with that
 * secret exists already (revoked or not: a revoked bootstrap key stays revoked). Returns whether
 * it was created.
 */
export async function ensureBootstrapKey(store: Store, secret: string, now: number = Date.now()): Promise<boolean> {
  if (!looksLikeKey(secret)) {
    throw new OwlError('CONFIG_INVALID', 'OWL_BOOTSTRAP_KEY_FILE must hold one key of the form owl_ followed by 43 base64url characters (make one with: node -e "console.log(\'owl_\' + require(\'crypto\').randomBytes(32).toString(\'base64url\'))")');
  }
  const hash = hashKey(secret);
  if (await store.keys.findByHash(hash)) return false;
  const created = await store.keys.create({ name: 'bootstrap', scopes: ['admin'], prefix: keyPrefix(secret), hash }, now);
  await store.audit.record({ at: now, keyId: null, action: 'key.create', target: created.id, address: 'local' });
  return true;
}
