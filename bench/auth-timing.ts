/**
 * Does key verification leak through its timing? (`npm run bench -- auth-timing`; a statistical
 * measurement, not a CI assertion.)
 *
 *   node --import tsx bench/auth-timing.ts [--samples 20000] [--keys 1000] [--store sqlite|postgres]
 *
 * A store holds `--keys` real keys. Two kinds of wrong key are verified, interleaved in random
 * order so that drift hits both alike: one that starts with a real key's 12-character prefix
 * (then random), and one that shares nothing with any key. Each verification (verifyKey: format
 * check, SHA-256, lookup by hash, constant-time compare with the row's or a dummy hash) is timed
 * with hrtime. Printed: medians, 10 %-trimmed means, and a Mann-Whitney U test of the two samples;
 * |z| < 3 (p > 0.003) means no difference this many samples can see. `--control` runs the same
 * measurement on a deliberately leaky verifier (look the key up by its prefix, then compare the
 * strings): it must show the difference, or the method proves nothing.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createApiKey } from '../src/auth/key-service.ts';
import { KEY_PREFIX, PREFIX_LENGTH, verifyKey } from '../src/auth/keys.ts';
import { openPostgresStore } from '../src/store/postgres/index.ts';
import { openSqliteStore } from '../src/store/sqlite/index.ts';
import type { Store } from '../src/store/types.ts';
import { createTestSchema } from '../test/store/postgres-harness.ts';

const { values } = parseArgs({
  options: { samples: { type: 'string', default: '20000' }, keys: { type: 'string', default: '1000' }, store: { type: 'string', default: 'sqlite' }, control: { type: 'boolean', default: false } },
});
const SAMPLES = Number(values.samples);
const KEYS = Number(values.keys);

const randomTail = (n: number) => randomBytes(48).toString('base64url').slice(0, n);

/** Mann-Whitney U with the normal approximation (ties get mean ranks): z and two-sided p. */
function mannWhitney(a: number[], b: number[]): { z: number; p: number } {
  const all = [...a.map((v) => ({ v, g: 0 })), ...b.map((v) => ({ v, g: 1 }))].sort((x, y) => x.v - y.v);
  const ranks = new Array<number>(all.length);
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && all[j + 1]!.v === all[i]!.v) j++;
    for (let k = i; k <= j; k++) ranks[k] = (i + j) / 2 + 1;
    i = j + 1;
  }
  let rankA = 0;
  all.forEach((x, i) => {
    if (x.g === 0) rankA += ranks[i]!;
  });
  const n1 = a.length;
  const n2 = b.length;
  const u = rankA - (n1 * (n1 + 1)) / 2;
  const z = (u - (n1 * n2) / 2) / Math.sqrt((n1 * n2 * (n1 + n2 + 1)) / 12);
  const p = 2 * (1 - phi(Math.abs(z)));
  return { z, p };
}

/** Standard normal CDF (Abramowitz-Stegun 7.1.26). */
function phi(x: number): number {
  const t = 1 / (1 + 0.3275911 * (x / Math.SQRT2));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-(x * x) / 2);
  return 0.5 * (1 + y);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
function trimmedMean(xs: number[], cut = 0.1): number {
  const s = [...xs].sort((a, b) => a - b).slice(Math.floor(xs.length * cut), Math.ceil(xs.length * (1 - cut)));
  return s.reduce((x, y) => x + y, 0) / s.length;
}

async function main(): Promise<void> {
  let store: Store;
  let cleanup = async () => {};
  if (values.store === 'postgres') {
    const schema = await createTestSchema();
    store = openPostgresStore({ url: schema.url() });
    cleanup = () => schema.drop();
  } else store = openSqliteStore({ path: ':memory:' });
  await store.migrate();
  const prefixes: string[] = [];
  const byPrefix = new Map<string, string>();
  for (let i = 0; i < KEYS; i++) {
    const { key } = await createApiKey(store, { name: `k${i}`, scopes: ['jobs:read'] }, { keyId: null, address: 'bench' });
    prefixes.push(key.slice(0, PREFIX_LENGTH));
    byPrefix.set(key.slice(0, PREFIX_LENGTH), key);
  }
  // The leaky control: a lookup by the prefix, then an ordinary string comparison.
  const leaky = async (key: string) => {
    const stored = byPrefix.get(key.slice(0, PREFIX_LENGTH));
    return stored !== undefined && (await store.keys.findByHash(stored)) !== undefined && stored === key
      ? ({ ok: true } as const)
      : ({ ok: false, reason: 'unknown' } as const);
  };
  const verify = values.control ? leaky : (key: string) => verifyKey(store.keys, key, Date.now());
  // Both kinds are flattened the same way (a Buffer round trip), so V8's string representation differs in nothing.
  const flat = (s: string) => Buffer.from(s, 'latin1').toString('latin1');
  const rightPrefix = () => flat(prefixes[Math.floor(Math.random() * prefixes.length)]! + randomTail(47 - PREFIX_LENGTH));
  const wrongPrefix = () => flat(KEY_PREFIX + randomTail(43));
  const samples: [number[], number[]] = [[], []];
  for (let i = 0; i < 2000; i++) await verify(i % 2 ? rightPrefix() : wrongPrefix()); // warm-up
  for (let i = 0; i < 2 * SAMPLES; i++) {
    const kind = Math.random() < 0.5 ? 0 : 1;
    if (samples[kind]!.length >= SAMPLES) continue;
    const key = kind === 0 ? rightPrefix() : wrongPrefix();
    const t0 = process.hrtime.bigint();
    const verdict = await verify(key);
    const ns = Number(process.hrtime.bigint() - t0);
    if (verdict.ok || verdict.reason !== 'unknown') throw new Error(`a random key verified as ${JSON.stringify(verdict)}`);
    samples[kind]!.push(ns);
  }
  const [right, wrong] = samples;
  const { z, p } = mannWhitney(right, wrong);
  console.log(`${values.control ? 'the LEAKY control verifier' : 'verifyKey'} on ${store.backend} with ${KEYS} keys, ${right.length} + ${wrong.length} wrong keys, interleaved at random`);
  console.log(`  right prefix: median ${(median(right) / 1000).toFixed(2)} µs, 10%-trimmed mean ${(trimmedMean(right) / 1000).toFixed(2)} µs`);
  console.log(`  wrong prefix: median ${(median(wrong) / 1000).toFixed(2)} µs, 10%-trimmed mean ${(trimmedMean(wrong) / 1000).toFixed(2)} µs`);
  const gap = trimmedMean(right) - trimmedMean(wrong);
  console.log(`  difference of the trimmed means: ${gap.toFixed(0)} ns (${((gap / trimmedMean(wrong)) * 100).toFixed(1)} %)`);
  console.log(`  Mann-Whitney U: z = ${z.toFixed(2)}, p = ${p.toFixed(3)} → ${Math.abs(z) < 3 ? 'no difference seen' : 'THE TIMES DIFFER'}`);
  await store.close();
  await cleanup();
}

await main();
