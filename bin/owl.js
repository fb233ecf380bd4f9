#!/usr/bin/env node
// The `owl` command. First the start-up signal handlers (a SIGTERM or Ctrl-C at any moment of
// start-up ends the command cleanly: early-signals.js), then the compiled build (dist/) when it
// is current, with stack traces mapped to the sources (source-maps.js), the TypeScript sources
// through tsx otherwise (entry.js).
import { startupSignals } from './early-signals.js';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { chooseEntry } from './entry.js';
import { lazySourceMaps } from './source-maps.js';

const signals = startupSignals();
await signals.step('handlers');
const root = fileURLToPath(new URL('..', import.meta.url));
if (chooseEntry(root) === 'dist') {
  lazySourceMaps(path.join(root, 'dist'));
  await import('../dist/owl.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/bin/owl.ts');
}
