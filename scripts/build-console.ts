/**
 * Builds the web console (console/) into dist/console/, which `owl serve` serves at `/`:
 * esbuild bundles console/src/main.ts (Preact + htm, no JSX step) with its CSS, splits what only
 * the page view needs (marked, DOMPurify) into a chunk loaded on demand, names every asset by its
 * content hash, writes index.html naming them, and a brotli and a gzip file beside each text file
 * (served as they are: no compression work per request).
 *
 *   npm run build:console            (make run and make test run it)
 *   node --import tsx scripts/build-console.ts --report   also prints the first view's sizes
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const ROOT = path.resolve(import.meta.dirname, '..');
export const CONSOLE_SRC = path.join(ROOT, 'console');
export const CONSOLE_OUT = path.join(ROOT, 'dist/console');

export interface ConsoleBuild {
  outdir: string;
  /** Files the first view loads (index.html, the entry script and its static imports, the stylesheet), relative to outdir. */
  firstView: string[];
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

export async function buildConsole(outdir = CONSOLE_OUT): Promise<ConsoleBuild> {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(path.join(outdir, 'assets'), { recursive: true });
  const result = await build({
    entryPoints: [path.join(CONSOLE_SRC, 'src/main.ts')],
    bundle: true,
    splitting: true,
    format: 'esm',
    target: ['chrome110', 'firefox115', 'safari16'],
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    outdir: path.join(outdir, 'assets'),
    entryNames: '[name]-[hash]',
    chunkNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    metafile: true,
    absWorkingDir: ROOT,
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const outputs = result.metafile.outputs;
  const rel = (p: string) => path.relative(outdir, path.resolve(ROOT, p)).split(path.sep).join('/');
  const entry = Object.keys(outputs).find((p) => outputs[p]!.entryPoint !== undefined && p.endsWith('.js'))!;
  const css = outputs[entry]!.cssBundle;
  const staticImports = outputs[entry]!.imports.filter((i) => i.kind === 'import-statement').map((i) => rel(i.path));
  const template = readFileSync(path.join(CONSOLE_SRC, 'index.html'), 'utf8');
  const html = template
    .replace('<!--styles-->', css ? `<link rel="stylesheet" href="/${rel(css)}">` : '')
    .replace('<!--script-->', `<script type="module" src="/${rel(entry)}"></script>`);
  writeFileSync(path.join(outdir, 'index.html'), html);
  writeFileSync(path.join(outdir, 'favicon.svg'), readFileSync(path.join(CONSOLE_SRC, 'favicon.svg')));
  for (const file of walk(outdir)) {
    if (!/\.(html|js|css|svg)$/.test(file)) continue;
    const body = readFileSync(file);
    writeFileSync(`${file}.br`, brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
    writeFileSync(`${file}.gz`, gzipSync(body, { level: 9 }));
  }
  return { outdir, firstView: ['index.html', rel(entry), ...staticImports, ...(css ? [rel(css)] : [])] };
}

/** Bytes of each first-view file as sent with brotli and gzip, and the totals of its scripts and styles. */
export function firstViewSizes(b: ConsoleBuild): { files: Array<{ file: string; raw: number; br: number; gz: number }>; jsCssBr: number; jsCssGz: number } {
  const files = b.firstView.map((file) => {
    const p = path.join(b.outdir, file);
    return { file, raw: statSync(p).size, br: statSync(`${p}.br`).size, gz: statSync(`${p}.gz`).size };
  });
  const code = files.filter((f) => /\.(js|css)$/.test(f.file));
  return { files, jsCssBr: code.reduce((n, f) => n + f.br, 0), jsCssGz: code.reduce((n, f) => n + f.gz, 0) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const built = await buildConsole();
  if (process.argv.includes('--report')) {
    const sizes = firstViewSizes(built);
    for (const f of sizes.files) console.log(`${f.file}\t${f.raw} B\tbrotli ${f.br} B\tgzip ${f.gz} B`);
    console.log(`first view, JS + CSS: brotli ${sizes.jsCssBr} B, gzip ${sizes.jsCssGz} B`);
  } else {
    console.log(`console built into ${path.relative(process.cwd(), built.outdir) || '.'}`);
  }
}
