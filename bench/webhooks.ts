/**
 * Webhook outbox throughput: events published into the outbox, then delivered by one sender
 * (leases, Standard Webhooks signature, outcome recorded) to a loopback receiver answering 204,
 * on SQLite (a file, as `owl serve` uses it) and PostgreSQL (a throw-away schema, when the server
 * answers). Baseline: the same POSTs sent straight with undici at the same concurrency, with no
 * store and no signature, measured in the same run.
 * Run: node --import tsx bench/webhooks.ts [--events 2000]
 * Prints figures only; nothing is asserted.
 */
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { openSqliteStore } from '../src/store/sqlite/index.ts';
import type { Store } from '../src/store/types.ts';
import { DEFAULT_RETRY_POLICY } from '../src/webhooks/retry.ts';
import { WebhookSender } from '../src/webhooks/sender.ts';
import { createTestSchema } from '../test/store/postgres-harness.ts';

const { values } = parseArgs({ options: { events: { type: 'string', default: '2000' } } });
const EVENTS = Number(values.events);
/** The sender's default batch: deliveries leased per round and sent concurrently. */
const CONCURRENCY = 16;
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

function rate(n: number, ms: number): string {
  return `${Math.round((n / ms) * 1000).toLocaleString('en-US')}/s`;
}

let received = 0;
const server = http.createServer({ keepAlive: true }, (req, res) => {
  req.resume();
  req.on('end', () => {
    received++;
    res.writeHead(204).end();
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
const body = (i: number) => ({ counts: { new: 1, changed: 0, unchanged: 0, gone: 0 }, changes: [{ url: `https://site.example/${i}`, change: 'new', pageId: i }] });

async function measure(label: string, store: Store): Promise<void> {
  await store.migrate();
  await store.webhooks.create({ url, events: ['page.changed'], secret: SECRET });
  let t = performance.now();
  for (let i = 0; i < EVENTS; i++) await store.webhooks.publish({ type: 'page.changed', jobId: 'bench', data: body(i) });
  const publishMs = performance.now() - t;
  const sender = new WebhookSender({ store: store.webhooks, timeoutMs: 10_000, maxResponseBytes: 65_536, retry: DEFAULT_RETRY_POLICY, pollMs: 1_000, allowPrivate: true, userAgent: 'bench', batch: CONCURRENCY });
  received = 0;
  t = performance.now();
  while ((await sender.runOnce()) > 0);
  const sendMs = performance.now() - t;
  await sender.close();
  console.log(`${label.padEnd(11)} publish ${rate(EVENTS, publishMs).padStart(9)} (one transaction each)   deliver ${rate(received, sendMs).padStart(8)} (${received} delivered)`);
}

// Baseline: the same requests with no outbox and no signature.
const agent = new Agent({ connections: 8 });
received = 0;
let next = 0;
const t0 = performance.now();
await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
  while (next < EVENTS) {
    const i = next++;
    const res = await request(url, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'page.changed', data: body(i) }) });
    await res.body.dump();
  }
}));
console.log(`${'baseline'.padEnd(11)} ${' '.repeat(39)}   deliver ${rate(received, performance.now() - t0).padStart(8)} (undici POSTs, ${CONCURRENCY} at a time)`);
await agent.close();

const dir = mkdtempSync(path.join(tmpdir(), 'owl-bench-webhooks-'));
const sqlite = openSqliteStore({ path: path.join(dir, 'owl.db') });
try {
  await measure('sqlite', sqlite);
} finally {
  await sqlite.close();
  rmSync(dir, { recursive: true, force: true });
}
try {
  const schema = await createTestSchema();
  const pg = schema.open();
  try {
    await measure('postgres', pg);
  } finally {
    await pg.close();
    await schema.drop();
  }
} catch (err) {
  console.log(`postgres    skipped: ${(err as Error).message}`);
}
server.close();
