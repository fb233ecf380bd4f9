/**
 * Documents that are not HTML are results too: what kind a content type is, and their content.
 * - text (text/plain, text/markdown, text/csv, any other text/* but HTML and XML): `text` is the
 *   body, `markdown` the body as it is;
 * - JSON (application/json, text/json, any +json): parsed into `data` (null when it does not
 *   parse, counted as `jsonInvalid`); text is the body, markdown a fenced json block;
 * - XML (application/xml, text/xml, any +xml, RSS and Atom included): text is the body as it is,
 *   markdown a fenced xml block;
 * - PDF (application/pdf): its text through unpdf (pdf.js), only when the job asks for text or
 *   markdown; the title from the PDF's Info dictionary goes to the metadata.
 */

export type DocumentKind = 'html' | 'text' | 'json' | 'xml' | 'pdf';

/** The kind of a media type (`text/html`, lower-case, no parameters), or null when it is not a result. */
export function documentKind(contentType: string | null): DocumentKind | null {
  if (contentType === null) return null;
  const t = contentType.trim().toLowerCase();
  if (t === 'text/html' || t === 'application/xhtml+xml') return 'html';
  if (t === 'application/pdf') return 'pdf';
  if (t === 'application/json' || t === 'text/json' || t.endsWith('+json')) return 'json';
  if (t === 'application/xml' || t === 'text/xml' || t.endsWith('+xml')) return 'xml';
  if (t.startsWith('text/')) return 'text';
  return null;
}

export interface PdfText {
  text: string;
  pages: number;
  title: string | null;
}

/**
 * The text of a PDF, pages separated by a blank line. Rejects when the bytes are not a PDF
 * (pdf.js's InvalidPDFException) or it cannot be read; the caller reports that per page.
 */
/** unpdf (pdf.js), loaded on the first PDF a job asks text of. */
let unpdf: Promise<typeof import('unpdf')> | null = null;

export async function pdfText(bytes: Uint8Array): Promise<PdfText> {
  unpdf ??= import('unpdf');
  const { extractText, getDocumentProxy, getMeta } = await unpdf;
  // pdf.js takes ownership of the buffer it is given: hand it a copy.
  const doc = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0, isEvalSupported: false });
  try {
    const { totalPages, text } = await extractText(doc, { mergePages: false });
    let title: string | null = null;
    try {
      const meta = await getMeta(doc);
      const t = (meta.info as { Title?: unknown } | undefined)?.Title;
      if (typeof t === 'string' && t.trim() !== '') title = t.trim();
    } catch {
      // no Info dictionary: no title
    }
    return { text: text.map((page) => page.trim()).filter((p) => p !== '').join('\n\n'), pages: totalPages, title };
  } finally {
    await doc.destroy();
  }
}

/** A fenced Markdown code block that no line of `body` can close early. */
export function fenced(body: string, lang: string): string {
  let fence = '```';
  while (body.includes(fence)) fence += '`';
  return `${fence}${lang}\n${body}\n${fence}`;
}

/** Line ends normalised, a leading BOM and trailing whitespace dropped. */
export function normaliseText(body: string): string {
  return body.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').trimEnd();
}
