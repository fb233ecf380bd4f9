/**
 * The per-page content cap: every content field of a record (html, markdown, text, links, data,
 * items, metadata.jsonLd) is held to `maxBytes` UTF-8 bytes of JSON, each on its own. A capped
 * field is named in the record's `truncated`, never cut silently.
 * - strings are cut at a character boundary;
 * - arrays keep their first elements that fit (links, items, jsonLd);
 * - objects (data) keep their properties in order, the values that do not fit cut in turn —
 *   strings shortened, arrays cut, anything else replaced by null — and the properties after the
 *   budget is spent dropped.
 */

const encoder = new TextEncoder();

/** UTF-8 byte length of a string, without allocating when it is ASCII-short. */
export function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** `s` cut to at most `maxBytes` UTF-8 bytes, never inside a character. */
export function capString(s: string, maxBytes: number): { value: string; truncated: boolean } {
  if (s.length <= maxBytes / 3 || utf8Length(s) <= maxBytes) return { value: s, truncated: false };
  const bytes = encoder.encode(s);
  let end = Math.max(0, maxBytes);
  // Back up over continuation bytes (10xxxxxx) so the cut lands on a character start.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return { value: Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('utf8'), truncated: true };
}

function jsonBytes(v: unknown): number {
  const s = JSON.stringify(v);
  return s === undefined ? 0 : utf8Length(s);
}

/** `value` fitted into `maxBytes` bytes of JSON as the module comment says. */
export function capJson<T>(value: T, maxBytes: number): { value: T; truncated: boolean } {
  if (jsonBytes(value) <= maxBytes) return { value, truncated: false };
  return { value: fit(value, maxBytes) as T, truncated: true };
}

function fit(value: unknown, budget: number): unknown {
  if (typeof value === 'string') {
    // JSON escapes and quotes cost bytes too: cut, then shorten until the JSON fits.
    let cut = capString(value, Math.max(0, budget - 2)).value;
    while (cut.length > 0 && jsonBytes(cut) > budget) cut = cut.slice(0, Math.floor(cut.length * 0.9));
    return cut;
  }
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    let used = 2;
    for (const item of value) {
      const size = jsonBytes(item) + (out.length > 0 ? 1 : 0);
      if (used + size > budget) break;
      out.push(item);
      used += size;
    }
    return out;
  }
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    const entries = Object.entries(value as Record<string, unknown>);
    let used = 2;
    for (const [key, v] of entries) {
      const keyCost = jsonBytes(key) + 1 + (Object.keys(out).length > 0 ? 1 : 0);
      const room = budget - used - keyCost;
      // Not even room for `null`: the remaining properties are dropped.
      if (room < 4) break;
      const size = jsonBytes(v);
      let kept: unknown = v;
      if (size > room) kept = room > 4 && (typeof v === 'string' || Array.isArray(v) || (typeof v === 'object' && v !== null)) ? fit(v, room) : null;
      out[key] = kept;
      used += keyCost + jsonBytes(kept);
    }
    return out;
  }
  return null;
}
