/**
 * The Store contract: one backend-neutral suite per part of the Store that every implementation
 * must pass (SQLite in test/store/sqlite.test.ts, PostgreSQL in test/store/postgres.test.ts).
 */
import { describe, type TestContext } from 'node:test';
import type { Store } from '../../../src/store/types.ts';
import { frontierContract } from './frontier.ts';
import type { ContractContext, StoreHarness } from './helpers.ts';
import { jobsContract } from './jobs.ts';
import { keysContract } from './keys.ts';
import { lifecycleContract } from './lifecycle.ts';
import { pagesContract } from './pages.ts';
import { proxiesContract } from './proxies.ts';
import { schedulesContract } from './schedules.ts';
import { webhooksContract } from './webhooks.ts';

export type { StoreHarness } from './helpers.ts';

/**
 * Registers the contract cases. `makeStore` gives a fresh, migrated, EMPTY store per case;
 * `cleanup` closes and drops it.
 */
export function runStoreContract(name: string, makeStore: () => Promise<StoreHarness>): void {
  async function withStore(fn: (store: Store, harness: StoreHarness) => Promise<void>): Promise<void> {
    const harness = await makeStore();
    try {
      await fn(harness.store, harness);
    } finally {
      await harness.cleanup();
    }
  }
  async function withPeer(t: TestContext, fn: (store: Store, peer: Store) => Promise<void>): Promise<void> {
    const harness = await makeStore();
    let peer: Store | undefined;
    try {
      if (!harness.openPeer) {
        t.skip('no second handle on one database: one process owns the embedded store (its claims are serialised in its one connection)');
        return;
      }
      peer = await harness.openPeer();
      await fn(harness.store, peer);
    } finally {
      await peer?.close();
      await harness.cleanup();
    }
  }
  const ctx: ContractContext = { withStore, withPeer, makeStore };
  describe(`Store contract: ${name}`, () => {
    lifecycleContract(ctx);
    jobsContract(ctx);
    frontierContract(ctx);
    pagesContract(ctx);
    proxiesContract(ctx);
    schedulesContract(ctx);
    keysContract(ctx);
    webhooksContract(ctx);
  });
}
