/** Worker-thread side of the two-thread claim test in sqlite.test.ts: claims until the frontier is empty and reports the ids. */
import { parentPort, workerData } from 'node:worker_threads';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';

const { file, workerId, now } = workerData as { file: string; workerId: string; now: number };
const store = openSqliteStore({ path: file, busyTimeoutMs: 10_000 });
const ids: number[] = [];
for (let i = 0; i < 10_000; i++) {
  const batch = await store.claim({ workerId, limit: 7, leaseMs: 60_000, maxPerHost: 1000, hostDelayMs: 0, now });
  if (batch.length === 0) break;
  for (const e of batch) ids.push(e.id);
}
await store.close();
parentPort!.postMessage(ids);
