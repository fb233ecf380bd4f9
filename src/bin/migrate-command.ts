import { loadConfig } from '../config/load.ts';
import { describeStore, openStore } from '../store/open.ts';

/** `owl migrate`: applies pending migrations and prints the schema version. */
export async function runMigrate(): Promise<number> {
  const config = loadConfig(process.env);
  const store = await openStore(config);
  try {
    const { applied, version } = await store.migrate();
    console.log(`${describeStore(config)}: schema version ${version}${applied.length ? ` (applied ${applied.join(', ')})` : ' (up to date)'}`);
    return 0;
  } finally {
    await store.close();
  }
}
