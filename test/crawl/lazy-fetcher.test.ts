import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLazyFetcher } from '../../src/crawl/lazy-fetcher.ts';
import type { FetchRequest, FetchResponse, Fetcher } from '../../src/crawl/types.ts';

function countingFactory() {
  const calls = { created: 0, fetched: 0, closed: 0 };
  const create = async (): Promise<Fetcher> => {
    calls.created++;
    return {
      fetch: async () => {
        calls.fetched++;
        return { status: 200 } as unknown as FetchResponse;
      },
      close: async () => {
        calls.closed++;
      },
    };
  };
  return { calls, create };
}

describe('lazy fetcher', () => {
  it('builds nothing until the first fetch, and closing it then builds nothing', async () => {
    const { calls, create } = countingFactory();
    const fetcher = createLazyFetcher(create);
    await fetcher.close();
    assert.deepEqual(calls, { created: 0, fetched: 0, closed: 0 });
  });

  it('builds the fetcher once for concurrent fetches and closes it', async () => {
    const { calls, create } = countingFactory();
    const fetcher = createLazyFetcher(create);
    const req = { url: 'http://127.0.0.1/' } as FetchRequest;
    const [a, b] = await Promise.all([fetcher.fetch(req), fetcher.fetch(req)]);
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    await fetcher.close();
    assert.deepEqual(calls, { created: 1, fetched: 2, closed: 1 });
  });
});
