// `npm run build`: compiles the `owl` command into dist/ (esbuild; one bundle of our code and the
// packages it uses, split per command so each loads only what it runs; source maps).
// bin/owl.js runs dist/owl.js when it is newer than every file under src/, and the sources
// through tsx otherwise (bin/entry.js), so an edit is never shadowed by an old build.
// `npm run build` runs `npm run build:console --if-present` first (the web console's assets).
//   --if-possible  the `prepare` script (npm ci, npm install): exit 0 without building when esbuild
//                  or src/ is missing (`npm ci --omit=dev`, an install without sources); else build
//                  the console's assets too, as `npm run build` does
//   --outdir DIR   build into DIR instead of dist/ (tests; DIR must sit where node_modules resolves)
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, renameSync, rmSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ifPossible = process.argv.includes('--if-possible');
const outdirAt = process.argv.indexOf('--outdir');
const dist = outdirAt > 0 ? path.resolve(process.argv[outdirAt + 1] ?? '') : path.join(root, 'dist');

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  if (!ifPossible) throw new Error('esbuild is not installed: run npm ci (it is a devDependency)');
}
if (!esbuild || !existsSync(path.join(root, 'src/bin/owl.ts'))) {
  if (ifPossible) {
    console.error('build: skipped (no esbuild or no src/); bin/owl.js runs the sources or an existing dist/');
    process.exit(0);
  }
  throw new Error('build: src/bin/owl.ts not found');
}

if (ifPossible && JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).scripts?.['build:console']) {
  const r = spawnSync('npm', ['run', 'build:console'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

// Taken before reading the sources: a file saved while the build runs is newer than the build.
const startedAt = new Date();
const next = `${dist}.next`;
rmSync(next, { recursive: true, force: true });
await esbuild.build({
  absWorkingDir: root,
  entryPoints: ['src/bin/owl.ts'],
  outdir: next,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // The packages are bundled too: loading them one file at a time from node_modules (resolving,
  // statting, reading and, for CommonJS imported from ESM, scanning each for its exports) was
  // about a third of `owl crawl`'s start-up. They stay in node_modules where bundling would change
  // what they do: a native module, packages that start workers or read files beside their own code
  // (pino-pretty, which pino's transport worker loads; Playwright; unpdf's PDF.js), optional peers
  // that are not installed, and the dev tools. pino itself is bundled: src/log.ts tells it where
  // its transport worker files are. (@fastify/swagger reads its own package.json for a default
  // title and version, which the API's OpenAPI options give: bundled, it finds none and uses them.)
  external: ['better-sqlite3', 'pino-pretty', 'playwright-core', 'playwright', 'unpdf', 'pg-native', 'tsx', 'esbuild'],
  // Bundled CommonJS packages require Node's built-ins: give each output file a `require`.
  banner: { js: "import { createRequire as __owlCreateRequire } from 'node:module'; const require = __owlCreateRequire(import.meta.url);" },
  sourcemap: 'linked',
  // Stack traces need the mappings only; without the sources' text the maps load faster.
  sourcesContent: false,
  // No keepNames: it wraps every function in a `__name()` call that redefines its `name`, also each
  // closure made per page on the crawl's path, for names that the unminified bundle keeps anyway
  // (the few renamed on a clash are mapped back by the source maps in stack traces).
  keepNames: false,
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
  metafile: false,
});
// Files read at run time beside their module: the migrations (src/store/migrations-dir.ts).
for (const dialect of ['sqlite', 'postgres']) {
  cpSync(path.join(root, 'src/store', dialect, 'migrations'), path.join(next, 'migrations', dialect), { recursive: true });
}
// The console's assets (npm run build:console writes dist/console/) move into the new build.
if (existsSync(path.join(dist, 'console'))) renameSync(path.join(dist, 'console'), path.join(next, 'console'));
// Swap the new build in whole; a process still running the old one keeps its loaded modules.
const old = `${dist}.old`;
rmSync(old, { recursive: true, force: true });
if (existsSync(dist)) renameSync(dist, old);
renameSync(next, dist);
rmSync(old, { recursive: true, force: true });
utimesSync(path.join(dist, 'owl.js'), startedAt, startedAt);
console.error(`build: ${path.relative(root, dist)}/ from src/ in ${Date.now() - startedAt.getTime()} ms`);
