import type { Fetcher } from './types.ts';

/**
 * A Fetcher built on its first fetch (`create` usually imports the fetcher's module), so a
 * process that may never fetch does not load an HTTP client at start-up. Closing one that was
 * never built does nothing.
 */
export function createLazyFetcher(create: () => Promise<Fetcher>): Fetcher {
  let built: Promise<Fetcher> | null = null;
  return {
    async fetch(req) {
      built ??= create();
      return (await built).fetch(req);
    },
    async close() {
      if (built !== null) await (await built).close();
    },
  };
}
