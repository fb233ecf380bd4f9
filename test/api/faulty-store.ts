/**
 * Wraps a real Store so a test can make it fail like an unreachable database (`broken = true`)
 * or replace one method (`override`), without touching the store itself.
 */
import type { Store } from '../../src/store/types.ts';

export interface FaultyStore extends Store {
  /** While true every method rejects with a connection error. */
  broken: boolean;
  override<K extends keyof Store>(name: K, impl: Store[K]): void;
  readonly inner: Store;
}

export function withFaults(inner: Store): FaultyStore {
  const overrides = new Map<PropertyKey, unknown>();
  const state = { broken: false };
  const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === 'broken') return state.broken;
      if (prop === 'inner') return inner;
      if (prop === 'override') return (name: keyof Store, impl: unknown) => overrides.set(name, impl);
      const value = overrides.get(prop) ?? Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        if (state.broken) throw refused();
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
    set(_target, prop, value) {
      if (prop !== 'broken') return false;
      state.broken = Boolean(value);
      return true;
    },
  }) as FaultyStore;
}
