import { createApiKey } from '../../src/auth/key-service.ts';
import type { Scope, Store } from '../../src/store/types.ts';
import { makeApp, type TestApp } from '../api/helpers.ts';

export const T0 = 1_800_000_000_000;

/** A clock the test moves. */
export function testClock(start = T0): { now: () => number; set: (t: number) => void; advance: (ms: number) => void } {
  let t = start;
  return {
    now: () => t,
    set: (x) => {
      t = x;
    },
    advance: (ms) => {
      t += ms;
    },
  };
}

/** An app with keys required, on a fresh in-memory store, with a clock the test moves. */
export async function makeAuthApp(opts: Parameters<typeof makeApp>[0] = {}): Promise<TestApp & { clock: ReturnType<typeof testClock> }> {
  const clock = testClock();
  const t = await makeApp({ auth: { mode: 'required' }, clock: clock.now, ...opts });
  return { ...t, clock };
}

/** Creates a key the way `owl keys create` does; returns its secret and id. */
export async function addKey(store: Store, name: string, scopes: Scope[], extra: Record<string, unknown> = {}, now = T0): Promise<{ id: string; key: string }> {
  const k = await createApiKey(store, { name, scopes, ...extra }, { keyId: null, address: 'local' }, now);
  return { id: k.id, key: k.key };
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
