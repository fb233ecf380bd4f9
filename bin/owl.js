#!/usr/bin/env node
// The `owl` command: registers the TypeScript loader, then runs src/bin/owl.ts.
import { register } from 'tsx/esm/api';

register();
await import('../src/bin/owl.ts');
