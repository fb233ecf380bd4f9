import { after, before } from 'node:test';
import type { Store } from '../../src/store/types.ts';
import { startFixtureSite, type FixtureSite } from '../fixtures/site-server.ts';
import { createTestSchema, type TestSchema } from '../store/postgres-harness.ts';
import type { OwlProcess } from './processes.ts';

export interface ScaleFixture {
  schema: TestSchema;
  /** The test's own handle on the database (the processes under test open theirs). */
  store: Store;
  site: FixtureSite;
  /** Processes started by the test; killed afterwards. */
  procs: OwlProcess[];
}

/**
 * Registers the hooks every scale test needs: a fresh PostgreSQL schema with a migrated store
 * and a fixture site of `pages` linked pages, all removed afterwards together with the
 * processes pushed to `procs`. Read the fields inside the tests (they are set by `before`).
 */
export function useScaleFixture(pages: number, graphDelayMs = 0): ScaleFixture {
  const fx = { procs: [] as OwlProcess[] } as ScaleFixture;
  before(async () => {
    fx.schema = await createTestSchema();
    fx.store = fx.schema.open({ poolSize: 2 });
    await fx.store.migrate();
    fx.site = await startFixtureSite({ graphSize: pages, linksPerPage: 5, graphDelayMs });
  });
  after(async () => {
    await Promise.all(fx.procs.map((p) => p.stop('SIGKILL')));
    await fx.store?.close();
    await fx.site?.close();
    await fx.schema?.drop();
  });
  return fx;
}
