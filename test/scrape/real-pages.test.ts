/**
 * Main-content quality on real pages nobody here wrote (Debian documentation, four generators;
 * test/fixtures/scrape/real/README.md): token precision and recall of our main text against the
 * text of each page's main region (manifest.json), next to a regular-expression tag stripper of
 * the whole body — the "hack" the thresholds must tell apart from real main-content detection.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { selectAll, selectOne } from 'css-select';
import { removeElement } from 'domutils';
import { parseDocument } from 'htmlparser2';
import { isTag, isText, type AnyNode, type Element } from 'domhandler';
import { extractMainContent } from '../../src/scrape/main-content.ts';

const DIR = path.join(import.meta.dirname, '../fixtures/scrape/real');
const manifest = JSON.parse(readFileSync(path.join(DIR, 'manifest.json'), 'utf8')) as { pages: Array<{ file: string; package: string; main: string; asides?: string }> };

/** Text of the expected region, written independently of src/scrape: text nodes, script/style skipped. */
function regionText(node: AnyNode, out: string[] = []): string[] {
  if (isText(node)) out.push(node.data);
  else if (isTag(node)) {
    for (const c of node.children) {
      regionText(c, out);
      out.push(' ');
    }
  }
  return out;
}

function tokens(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of text.toLowerCase().matchAll(/[\p{L}\p{N}]+/gu)) counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
  return counts;
}

function score(ours: Map<string, number>, expected: Map<string, number>): { precision: number; recall: number; f1: number } {
  let overlap = 0;
  let oursTotal = 0;
  let expectedTotal = 0;
  for (const [t, n] of ours) {
    oursTotal += n;
    overlap += Math.min(n, expected.get(t) ?? 0);
  }
  for (const n of expected.values()) expectedTotal += n;
  const precision = oursTotal === 0 ? 0 : overlap / oursTotal;
  const recall = expectedTotal === 0 ? 0 : overlap / expectedTotal;
  return { precision, recall, f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall) };
}

/** The hack: whole body, scripts and styles cut, every tag replaced by a space. */
function regexHack(html: string): string {
  const body = /<body[\s\S]*<\/body>/i.exec(html)?.[0] ?? html;
  return body.replace(/<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>/gi, ' ').replace(/<[^>]+>/g, ' ').replace(/&[a-z]+;|&#\d+;/gi, ' ');
}

/**
 * Thresholds. Precision is what tells main-content detection from stripping tags: on these
 * documentation pages boilerplate is a modest share of the text, and the hack keeps all of it.
 * Recall is judged against the region without its asides.
 */
const MIN_MEAN_PRECISION = 0.97;
const MIN_PAGE_PRECISION = 0.95;
const MIN_MEAN_RECALL = 0.9;
const MIN_PAGE_RECALL = 0.75;

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('main content on real pages', () => {
  it(`has token precision ≥ ${MIN_MEAN_PRECISION} (each page ≥ ${MIN_PAGE_PRECISION}) and recall ≥ ${MIN_MEAN_RECALL} (each ≥ ${MIN_PAGE_RECALL}); the regex hack fails the precision bar`, () => {
    const rows: string[] = [];
    const ours = { p: [] as number[], r: [] as number[], rAll: [] as number[], f1: [] as number[] };
    const hack = { p: [] as number[], r: [] as number[], f1: [] as number[] };
    for (const page of manifest.pages) {
      const html = readFileSync(path.join(DIR, page.file), 'utf8');
      const region = selectOne<AnyNode, Element>(page.main, parseDocument(html));
      assert.ok(region !== null, `${page.file}: no ${page.main}`);
      const expectedAll = tokens(regionText(region).join(''));
      if (page.asides !== undefined) for (const aside of selectAll<AnyNode, Element>(page.asides, region)) removeElement(aside);
      const expected = tokens(regionText(region).join(''));
      assert.ok(expected.size > 30, `${page.file}: the expected region is nearly empty`);
      const main = extractMainContent(html, `file:///${page.file}`, { onlyMainContent: true, markdown: false });
      const got = tokens(main.text);
      const s = score(got, expected);
      const withAsides = score(got, expectedAll);
      const hackTokens = tokens(regexHack(html));
      // Judged as ours: precision against the whole region, recall against it without asides.
      const h = { precision: score(hackTokens, expectedAll).precision, recall: score(hackTokens, expected).recall, f1: 0 };
      h.f1 = (2 * h.precision * h.recall) / (h.precision + h.recall);
      ours.p.push(withAsides.precision);
      ours.r.push(s.recall);
      ours.rAll.push(withAsides.recall);
      ours.f1.push(s.f1);
      hack.p.push(h.precision);
      hack.r.push(h.recall);
      hack.f1.push(h.f1);
      rows.push(
        `${page.file.padEnd(40)} ${main.source.padEnd(13)} P ${withAsides.precision.toFixed(3)} R ${s.recall.toFixed(3)} (with asides ${withAsides.recall.toFixed(3)}) F1 ${s.f1.toFixed(3)} | hack P ${h.precision.toFixed(3)} R ${h.recall.toFixed(3)}`,
      );
    }
    rows.push(
      `mean over ${manifest.pages.length} pages: ours P ${mean(ours.p).toFixed(3)} (min ${Math.min(...ours.p).toFixed(3)}) R ${mean(ours.r).toFixed(3)} (with asides ${mean(ours.rAll).toFixed(3)}) F1 ${mean(ours.f1).toFixed(3)}` +
        ` | hack P ${mean(hack.p).toFixed(3)} (min ${Math.min(...hack.p).toFixed(3)}) R ${mean(hack.r).toFixed(3)} F1 ${mean(hack.f1).toFixed(3)}`,
    );
    console.log(rows.join('\n'));
    assert.ok(mean(ours.p) >= MIN_MEAN_PRECISION, `mean precision ${mean(ours.p).toFixed(3)}`);
    assert.ok(mean(ours.r) >= MIN_MEAN_RECALL, `mean recall ${mean(ours.r).toFixed(3)}`);
    manifest.pages.forEach((page, i) => {
      assert.ok(ours.p[i]! >= MIN_PAGE_PRECISION, `${page.file}: precision ${ours.p[i]!.toFixed(3)}`);
      assert.ok(ours.r[i]! >= MIN_PAGE_RECALL, `${page.file}: recall ${ours.r[i]!.toFixed(3)}`);
    });
    // The thresholds must mean something: the hack fails them.
    assert.ok(mean(hack.p) < MIN_MEAN_PRECISION && Math.min(...hack.p) < MIN_PAGE_PRECISION, 'the regex hack passes the precision bar: it proves nothing');
  });
});
