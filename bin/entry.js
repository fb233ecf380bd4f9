// Which code `owl` runs: the compiled build (dist/owl.js, `npm run build`) when it is at least as
// new as every file and folder under src/, the TypeScript sources through tsx otherwise. So an
// edit in src/ is never shadowed by an old build: until the next build (make run, make test,
// npm ci, npm run build) the command runs the sources, only slower to start. An install without
// src/ (the container image) runs dist/.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** Newest modification time (ms) of `dir` and everything under it; a folder's time moves when an entry is added, removed or renamed. */
export function newestMtime(dir) {
  let newest = statSync(dir).mtimeMs;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const t = entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs;
    if (t > newest) newest = t;
  }
  return newest;
}

/** 'dist' when `root`/dist/owl.js is current (or there are no sources), else 'src'. */
export function chooseEntry(root) {
  let built;
  try {
    built = statSync(path.join(root, 'dist', 'owl.js')).mtimeMs;
  } catch {
    return 'src';
  }
  let sources;
  try {
    sources = newestMtime(path.join(root, 'src'));
  } catch {
    return 'dist';
  }
  return sources <= built ? 'dist' : 'src';
}
