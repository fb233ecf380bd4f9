/**
 * The one format of stored page content, shared by the SQLite and PostgreSQL stores:
 *
 *   byte 0      format: 1 brotli-compressed, 2 stored as it is
 *   bytes 1–4   CRC-32 of the JSON text's UTF-8 bytes, big-endian
 *   bytes 5…    the UTF-8 JSON of the content object (compressed for format 1)
 *
 * Brotli at quality 5 with the text hint (bench/scrape-units.ts: a 10 KB record with Markdown and
 * links is stored in 668 bytes, encoded in about 0.1 ms). A record under STORE_BELOW bytes (a
 * metadata-only page: ~300 bytes) is stored as it is: compressing it saves half of very little, and
 * creating a brotli encoder for it cost 70-250 µs a page, the largest item of a metadata-only crawl
 * (bench/scrape.ts). Decoding checks the format, bounds the inflated size (a corrupt or hostile blob
 * cannot inflate without limit) and the checksum; any failure is OwlError('INTERNAL') naming the cause.
 */
import zlib from 'node:zlib';
import { OwlError } from '../errors.ts';

export const CONTENT_CODEC_VERSION = 1;
/** Format byte of a record stored without compression. */
export const CONTENT_STORED = 2;
/** Records of fewer JSON bytes are stored without compression. */
export const STORE_BELOW = 1024;
const HEADER_BYTES = 5;
/** Largest JSON a blob may inflate to; far above any capped record. */
export const MAX_DECODED_BYTES = 256 * 1024 * 1024;

function corrupt(why: string, cause?: unknown): OwlError {
  return new OwlError('INTERNAL', `Stored page content is unreadable: ${why}`, {}, { cause });
}

export function encodeContent(content: unknown): Buffer {
  return encodeContentJson(JSON.stringify(content));
}

/** encodeContent of content already written as JSON (`text`). */
export function encodeContentJson(text: string): Buffer {
  const length = Buffer.byteLength(text, 'utf8');
  if (length < STORE_BELOW) {
    // One allocation: the JSON is written straight after the header.
    const out = Buffer.allocUnsafe(HEADER_BYTES + length);
    out[0] = CONTENT_STORED;
    out.write(text, HEADER_BYTES, 'utf8');
    // The CRC of a string is that of its UTF-8 bytes: no view of the buffer to make.
    out.writeUInt32BE(zlib.crc32(text), 1);
    return out;
  }
  const json = Buffer.from(text, 'utf8');
  const packed = zlib.brotliCompressSync(json, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: 5,
      [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: json.length,
    },
  });
  const out = Buffer.allocUnsafe(HEADER_BYTES + packed.length);
  out[0] = CONTENT_CODEC_VERSION;
  out.writeUInt32BE(zlib.crc32(json), 1);
  packed.copy(out, HEADER_BYTES);
  return out;
}

export function decodeContent<T = unknown>(blob: Uint8Array): T {
  if (blob.length < HEADER_BYTES) throw corrupt(`${blob.length} bytes is shorter than the header`);
  if (blob[0] !== CONTENT_CODEC_VERSION && blob[0] !== CONTENT_STORED) throw corrupt(`unknown format version ${blob[0]}`);
  const buf = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  const crc = buf.readUInt32BE(1);
  let json: Buffer;
  if (blob[0] === CONTENT_STORED) json = buf.subarray(HEADER_BYTES);
  else {
    try {
      json = zlib.brotliDecompressSync(buf.subarray(HEADER_BYTES), { maxOutputLength: MAX_DECODED_BYTES });
    } catch (err) {
      throw corrupt(`brotli: ${(err as Error).message}`, err);
    }
  }
  if (zlib.crc32(json) !== crc) throw corrupt('checksum mismatch');
  try {
    return JSON.parse(json.toString('utf8')) as T;
  } catch (err) {
    throw corrupt('not JSON', err);
  }
}
