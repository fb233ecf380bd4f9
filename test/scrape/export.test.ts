import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';
import { columnsFor, csvCell, exportFileName, writeExport, type ExportRecord } from '../../src/scrape/export.ts';
import { compileExtractRules } from '../../src/scrape/extract.ts';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** A Writable that keeps what it is given, with a small buffer so backpressure happens. */
function collector(): { out: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const out = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      setImmediate(cb);
    },
  });
  return { out, text: () => Buffer.concat(chunks).toString('utf8') };
}

const RECORDS: ExportRecord[] = [
  { url: 'https://a.example/1', metadata: { title: 'One, "quoted"' }, data: { name: 'Mug', price: 12.5, tags: ['a', 'b'], note: '=HYPERLINK("http://evil")' }, items: [{ name: 'i1', url: 'https://a.example/i1' }, { name: 'multi\nline', url: null }] },
  { url: 'https://a.example/2', metadata: { title: null }, data: { name: '-12.5', price: null, tags: [], note: '@SUM(A1)' }, items: [] },
  { url: 'https://a.example/3', title: 'plain title', data: null },
];

async function exportText(format: 'jsonl' | 'json' | 'csv', records: ExportRecord[], opts = {}): Promise<string> {
  const c = collector();
  const n = await writeExport(format, records, c.out, opts);
  assert.equal(n, records.length);
  return c.text();
}

describe('writeExport', () => {
  it('jsonl: one JSON record per line', async () => {
    const text = await exportText('jsonl', RECORDS);
    assert.deepEqual(text.trimEnd().split('\n').map((l) => JSON.parse(l)), RECORDS);
  });

  it('json: one array, also when empty', async () => {
    assert.deepEqual(JSON.parse(await exportText('json', RECORDS)), RECORDS);
    assert.deepEqual(JSON.parse(await exportText('json', [])), []);
  });

  it('csv per page: url, title, then each field; RFC 4180 quoting; nested values as JSON; formula guard', async () => {
    const text = await exportText('csv', RECORDS, { fields: ['name', 'price', 'tags', 'note'] });
    assert.equal(
      text,
      'url,title,name,price,tags,note\r\n' +
        'https://a.example/1,"One, ""quoted""",Mug,12.5,"[""a"",""b""]","\'=HYPERLINK(""http://evil"")"\r\n' +
        "https://a.example/2,,-12.5,,[],'@SUM(A1)\r\n" +
        'https://a.example/3,plain title,,,,\r\n',
    );
  });

  it('csv per item when the rules have items: pageUrl then the item fields; pages without items add none', async () => {
    const columns = columnsFor(compileExtractRules({ items: { selector: '.p', fields: { name: '.n', url: { selector: 'a', attr: 'href', type: 'url' } } } }));
    const text = await exportText('csv', RECORDS, columns);
    assert.equal(text, 'pageUrl,name,url\r\nhttps://a.example/1,i1,https://a.example/i1\r\nhttps://a.example/1,"multi\nline",\r\n');
  });

  it('csvCell guards formulas unless the cell is a plain number, and can be told not to', () => {
    assert.equal(csvCell('+1+1'), "'+1+1");
    assert.equal(csvCell('-1+1'), "'-1+1");
    assert.equal(csvCell('\tx'), "'\tx");
    assert.equal(csvCell('-3'), '-3');
    assert.equal(csvCell(-3), '-3');
    assert.equal(csvCell('=1', false), '=1');
    assert.equal(csvCell(true), 'true');
    assert.equal(csvCell({ a: 1 }), '"{""a"":1}"');
  });

  it('rejects when the destination fails or closes', async () => {
    const failing = new Writable({
      highWaterMark: 16,
      write(_c, _e, cb) {
        setImmediate(() => cb(new Error('disk full')));
      },
    });
    failing.on('error', () => {});
    await assert.rejects(writeExport('jsonl', RECORDS, failing, { batchBytes: 1 }), /disk full|closed/);
  });

  it('exportFileName names a safe file', () => {
    assert.equal(exportFileName('0b9d3c1e-aaaa-bbbb-cccc-0123456789ab', 'csv'), 'owl-0b9d3c1e-aaaa-bbbb-cccc-0123456789ab.csv');
    assert.equal(exportFileName('../x', 'json'), 'owl-x.json');
  });

  for (const format of ['jsonl', 'csv'] as const) {
    it(`${format}: 50,000 records in constant memory, with backpressure`, async () => {
      const total = 50_000;
      async function* records(): AsyncGenerator<ExportRecord> {
        for (let i = 0; i < total; i++) {
          yield { url: `https://a.example/p/${i}`, metadata: { title: `Page ${i}` }, data: { name: `Product ${i}`, price: i / 100, body: 'x'.repeat(500) } };
        }
      }
      let bytes = 0;
      let drains = 0;
      let samples = 0;
      let peak = 0;
      gc();
      const base = process.memoryUsage().heapUsed;
      const out = new Writable({
        highWaterMark: 16 * 1024,
        write(chunk: Buffer, _enc, cb) {
          bytes += chunk.length;
          // Sample live memory now and then while the export runs.
          if (++samples % 200 === 0) {
            gc();
            peak = Math.max(peak, process.memoryUsage().heapUsed - base);
          }
          setImmediate(cb);
        },
      });
      out.on('drain', () => drains++);
      const n = await writeExport(format, records(), out, { fields: ['name', 'price', 'body'] });
      assert.equal(n, total);
      assert.ok(bytes > total * 500, `wrote ${bytes} bytes`);
      assert.ok(drains > 100, `only ${drains} drains: no backpressure happened`);
      // 50,000 records are ~28 MB of output; the writer held at most a few batches of it.
      assert.ok(peak < 8 << 20, `live heap grew by ${peak} bytes`);
    });
  }
});
