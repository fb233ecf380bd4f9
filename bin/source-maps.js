// Source-mapped stack traces for the compiled build (dist/), each map read when a stack first
// needs it. process.setSourceMapsEnabled(true) reads and parses every module's map as the module
// loads, and measures its source's lines: about 20 ms of `owl crawl`'s start-up on this machine
// (first request at 307 against 326 ms, medians of 9 runs each) and more for `owl serve`, whose
// chunks are larger, for stacks a healthy process rarely formats.
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Formats stack frames in files under `distDir` with the places in the TypeScript sources they come from. */
export function lazySourceMaps(distDir) {
  const under = `${pathToFileURL(distDir).href}/`;
  /** @type {Map<string, SourceMap | null>} */
  const maps = new Map();
  const mapOf = (fileUrl) => {
    let map = maps.get(fileUrl);
    if (map === undefined) {
      map = null;
      try {
        const mapUrl = `${fileUrl}.map`;
        const payload = JSON.parse(readFileSync(fileURLToPath(mapUrl), 'utf8'));
        payload.sources = payload.sources.map((source) => new URL(source, mapUrl).href);
        map = new SourceMap(payload);
      } catch {
        // No map or an unreadable one: the frame stays as it is.
      }
      maps.set(fileUrl, map);
    }
    return map;
  };
  const frame = (site) => {
    const text = String(site);
    const file = site.getFileName();
    if (typeof file !== 'string' || !file.startsWith(under)) return text;
    const line = site.getLineNumber();
    const column = site.getColumnNumber();
    const entry = line === null || column === null ? undefined : mapOf(file)?.findEntry(line - 1, column - 1);
    if (entry?.originalSource === undefined) return text;
    const place = `${file}:${line}:${column}`;
    const at = text.lastIndexOf(place);
    if (at < 0) return text;
    const source = entry.originalSource.startsWith('file:') ? fileURLToPath(entry.originalSource) : entry.originalSource;
    return `${text.slice(0, at)}${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}${text.slice(at + place.length)}`;
  };
  // Node's own formatting writes the error's first line (`Name: message`) when given no frames.
  const header = Error.prepareStackTrace ?? ((error) => String(error));
  Error.prepareStackTrace = (error, trace) => {
    let stack = header(error, []);
    for (const site of trace) stack += `\n    at ${frame(site)}`;
    return stack;
  };
}
