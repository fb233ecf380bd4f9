#!/usr/bin/env node
// The `owl` command. First the start-up signal handlers (a SIGTERM or Ctrl-C at any moment of
// start-up ends the command cleanly: early-signals.js), then the compiled build (dist/) when it
// is current, the TypeScript sources through tsx otherwise (entry.js).
import { startupSignals } from './early-signals.js';
import { fileURLToPath } from 'node:url';
import { chooseEntry } from './entry.js';

const signals = startupSignals();
await signals.step('handlers');
if (chooseEntry(fileURLToPath(new URL('..', import.meta.url))) === 'dist') {
  process.setSourceMapsEnabled(true);
  await import('../dist/owl.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/bin/owl.ts');
}
