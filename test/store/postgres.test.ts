
import { runStoreContract } from './contract/index.ts';
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
