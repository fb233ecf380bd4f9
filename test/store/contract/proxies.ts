/** The Store contract, `store.proxies`: proxy health shared by every process. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  T0, 
  type ContractContext,
} from './helpers.ts';

export function proxiesContract({ withStore }: ContractContext): void {
  describe('proxies', () => {
    it('proxy health is upserted by proxy and listed', () =>
      withStore(async (store) => {
        assert.deepEqual(await store.proxies.list(), []);
        await store.proxies.record({ proxy: 'http://p1:8080', failures: 1, cooldownUntil: T0 + 100, lastError: 'proxy' });
        await store.proxies.record({ proxy: 'http://p2:8080', failures: 0, cooldownUntil: 0, lastError: null });
        await store.proxies.record({ proxy: 'http://p1:8080', failures: 3, cooldownUntil: T0 + 900, lastError: 'timeout' });
        const list = (await store.proxies.list()).sort((a, b) => a.proxy.localeCompare(b.proxy));
        assert.deepEqual(list, [
          { proxy: 'http://p1:8080', failures: 3, cooldownUntil: T0 + 900, lastError: 'timeout' },
          { proxy: 'http://p2:8080', failures: 0, cooldownUntil: 0, lastError: null },
        ]);
      }));
  });
}
