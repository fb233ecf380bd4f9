import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isOwlError } from '../../src/errors.ts';
import { openPostgresStore } from '../../src/store/postgres/index.ts';
import type { Store } from '../../src/store/types.ts';
import { runStoreContract } from './contract.ts';
import { createTestSchema } from './postgres-harness.ts';

runStoreContract('postgres', async () => {
  const schema = await createTestSchema();
  const store = schema.open();
  await store.migrate();
  return {
    store,
    cleanup: async () => {
      await store.close();
      await schema.drop();
    },
    openPeer: async () => schema.open(),
    recordSchemaVersion: async (version) => {
      await schema.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, 0)', [version, 'from-the-future']);
    },
  };
});
