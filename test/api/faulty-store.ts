/**
 * Wraps a real Store so a test can make it fail like an unreachable database (`broken = true`)
 * or replace one method of one part (`override('jobs', 'get', …)`), without touching the store.
 */
import type { Store } from '../../src/store/types.ts';

type Part = 'jobs' | 'frontier' | 'pages' | 'proxies' | 'keys' | 'audit' | 'webhooks' | 'schedules';

export interface FaultyStore extends Store {
  /** While true every method rejects with a connection error. */
  broken: boolean;
  override<P extends Part, K extends keyof Store[P]>(part: P, name: K, impl: Store[P][K]): void;
  readonly inner: Store;
}

const PARTS: ReadonlySet<PropertyKey> = new Set<Part>(['jobs', 'frontier', 'pages', 'proxies', 'keys', 'audit', 'webhooks', 'schedules']);

export function withFaults(inner: Store): FaultyStore {
  const overrides = new Map<string, unknown>();
  const state = { broken: false };
  const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  const guard = (target: object, value: unknown): unknown => {
    if (typeof value !== 'function') return value;
    // Not an async function: pages.iterate returns an async iterable, which must reach the caller as it is.
    return (...args: unknown[]) => {
      if (state.broken) return Promise.reject(refused());
      return (value as (...a: unknown[]) => unknown).apply(target, args);
    };
  };
  const part = (name: string, target: object): object =>
    new Proxy(target, {
      get: (t, prop) => guard(t, overrides.get(`${name}.${String(prop)}`) ?? Reflect.get(t, prop, t)),
    });
  const parts = new Map<PropertyKey, object>([...PARTS].map((p) => [p, part(String(p), Reflect.get(inner, p) as object)]));
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === 'broken') return state.broken;
      if (prop === 'inner') return inner;
      if (prop === 'override') return (p: Part, name: string, impl: unknown) => overrides.set(`${p}.${name}`, impl);
      if (parts.has(prop)) return parts.get(prop);
      return guard(target, Reflect.get(target, prop, target));
    },
    set(_target, prop, value) {
      if (prop !== 'broken') return false;
      state.broken = Boolean(value);
      return true;
    },
  }) as FaultyStore;
}
