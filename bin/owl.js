#!/usr/bin/env node
// The `owl` command: registers the TypeScript loader, then runs src/bin/owl.ts.
// `owl crawl` first moves to a child process with V8's thread pool sized to the machine (v8-pool.js).
import { runWithSizedPool } from './v8-pool.js';

if (!(await runWithSizedPool())) {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/bin/owl.ts');
}
