/**
 * The store contract once more on PostgreSQL with settleAndClaim offered (an opt-in of the
 * PostgreSQL store): its own contract case runs instead of being skipped, and every other case
 * checks that the option changes nothing else.
 */
import { runStoreContract } from './contract.ts';
import { createTestSchema } from './postgres-harness.ts';

runStoreContract('postgres with settleAndClaim', async () => {
  const schema = await createTestSchema();
  const store = schema.open({ settleAndClaim: true });
  await store.migrate();
  return {
    store,
    cleanup: async () => {
      await store.close();
      await schema.drop();
    },
    openPeer: async () => schema.open({ settleAndClaim: true }),
    recordSchemaVersion: async (version) => {
      await schema.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, 0)', [version, 'from-the-future']);
    },
  };
});
