import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** One numbered schema step, read from `NNN-name.sql`. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * Reads a dialect's `migrations/NNN-name.sql` files in version order; numbers start at 001 and
 * have no gaps. Never edit a shipped file: add the next number.
 */
export function loadMigrations(dir: string): Migration[] {
  const out: Migration[] = [];
  for (const file of readdirSync(dir)) {
    const m = /^(\d{3})-([a-z0-9-]+)\.sql$/.exec(file);
    if (!m) continue;
    out.push({ version: Number(m[1]), name: m[2]!, sql: readFileSync(path.join(dir, file), 'utf8') });
  }
  out.sort((a, b) => a.version - b.version);
  out.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migrations must be numbered 001, 002, … without gaps; found ${m.version} at position ${i + 1} in ${dir}`);
  });
  return out;
}

/**
 * A dialect's migrations folder for the module at `moduleUrl`: beside it when it runs from
 * src/store/<dialect>/, and dist/migrations/<dialect> in the compiled build (scripts/build.js
 * copies them there; its modules sit in dist/ and dist/chunks/).
 */
export function migrationsDir(moduleUrl: string, dialect: 'sqlite' | 'postgres'): string {
  const here = path.dirname(fileURLToPath(moduleUrl));
  if (path.basename(here) === dialect) return path.join(here, 'migrations');
  return path.join(path.basename(here) === 'chunks' ? path.dirname(here) : here, 'migrations', dialect);
}
