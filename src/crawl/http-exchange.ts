/**
 * One HTTP request/response through undici's dispatch API. The fetcher used `request()`, whose
 * Readable body stream and async resource cost about 15-20 µs of CPU per response on a 12 KB
 * page (a third of undici's whole cost); a dispatch handler receives the chunks directly.
 *
 * What happens to a body is decided when the headers arrive (the policy's `plan`): collect it (inflating
 * gzip/deflate/br, failing with BODY_LIMIT past the limit counted after decoding), or discard it
 * as undici's `dump()` does — read up to 64 KB so the connection is kept, destroy it beyond.
 */
import zlib from 'node:zlib';
import type { Dispatcher } from 'undici';
import { OwlError } from '../errors.ts';

/** Response headers as undici parses them: lower-case names, repeated ones as arrays. */
export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** What to do with a response body, decided from its status and headers. */
export type BodyPlan = { collect: false } | { collect: true; encoding: string | undefined };

/** Decides a response's BodyPlan when its headers arrive; may throw (e.g. BODY_LIMIT by declared length). */
export interface BodyPolicy {
  plan(status: number, headers: ResponseHeaders, url: string): BodyPlan;
}

export interface Hop {
  status: number;
  headers: ResponseHeaders;
  /** The body, content-decoded, when the plan was to collect it; null when discarded. */
  body: Buffer | null;
  /** Body bytes as they came over the wire (before decoding); 0 for a discarded body. */
  wireBytes: number;
}

/** Largest discarded body read to keep its connection (undici's dump() default). */
const DISCARD_LIMIT = 64 * 1024;

type Inflater = zlib.Gunzip | zlib.Inflate | zlib.InflateRaw | zlib.BrotliDecompress;

/**
 * A dispatch handler for one request. `done` resolves with the response once its body is
 * collected (at the headers when it is discarded), or rejects with the transport error, the
 * BODY_LIMIT error or the reason given to `abort()`.
 */
export class Exchange implements Dispatcher.DispatchHandler {
  readonly done: Promise<Hop>;
  private resolve!: (hop: Hop) => void;
  private reject!: (err: unknown) => void;
  private settled = false;
  private controller: Dispatcher.DispatchController | null = null;
  /** An abort asked for before undici started the request; applied when it does. */
  private abortReason: Error | null = null;
  private status = 0;
  private headers: ResponseHeaders = {};
  private collecting = false;
  private chunks: Buffer[] = [];
  private decoded = 0;
  private wire = 0;
  private inflater: Inflater | null = null;
  private encoding: string | undefined;

  constructor(
    private readonly policy: BodyPolicy,
    private readonly limit: number,
    private readonly url: string,
  ) {
    this.done = new Promise<Hop>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /** Ends the exchange with `reason` (a deadline, the caller's signal). */
  abort(reason: Error): void {
    if (this.controller) this.controller.abort(reason);
    else this.abortReason ??= reason;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abortReason) controller.abort(this.abortReason);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: ResponseHeaders): void {
    if (statusCode < 200) return; // 1xx informational responses precede the real one
    this.status = statusCode;
    this.headers = headers;
    let plan: BodyPlan;
    try {
      plan = this.policy.plan(statusCode, headers, this.url);
    } catch (err) {
      return this.stop(err as Error);
    }
    if (plan.collect) {
      this.collecting = true;
      this.encoding = plan.encoding?.trim().toLowerCase();
      return;
    }
    // Discarded: the answer is complete now; the rest of the body only keeps the connection alive.
    this.finish(null);
    if (Number(headers['content-length']) > DISCARD_LIMIT) controller.abort(new Error('discarded body too large to drain'));
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.wire += chunk.length;
    if (!this.collecting) {
      if (this.wire > DISCARD_LIMIT) controller.abort(new Error('discarded body too large to drain'));
      return;
    }
    const enc = this.encoding;
    if (enc === undefined || enc === '' || enc === 'identity') return this.take(chunk);
    if (this.inflater === null) {
      this.inflater = this.makeInflater(enc, chunk);
      // Unknown coding: keep the bytes as they are, like a browser showing garbage.
      if (this.inflater === null) {
        this.encoding = undefined;
        return this.take(chunk);
      }
    }
    // Respect the inflater's backpressure so compressed input never piles up in memory.
    if (!this.inflater.write(chunk)) {
      controller.pause();
      this.inflater.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    if (!this.collecting || this.settled) return;
    if (this.inflater !== null) this.inflater.end();
    else this.finishCollected();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.inflater?.destroy();
    this.fail(err);
  }

  private makeInflater(enc: string, first: Buffer): Inflater | null {
    const zOpts = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
    let inflater: Inflater;
    if (enc === 'gzip' || enc === 'x-gzip') inflater = zlib.createGunzip(zOpts);
    else if (enc === 'br') inflater = zlib.createBrotliDecompress({ finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH });
    // "deflate" is meant to be zlib-wrapped but many servers send raw deflate.
    else if (enc === 'deflate') inflater = (first[0]! & 0x0f) === 8 ? zlib.createInflate(zOpts) : zlib.createInflateRaw(zOpts);
    else return null;
    inflater.on('data', (chunk: Buffer) => this.take(chunk));
    inflater.on('end', () => this.finishCollected());
    inflater.on('error', (e) => this.stop(new OwlError('NETWORK', `The body could not be decoded: ${e.message}`, { url: this.url }, { cause: e })));
    return inflater;
  }

  private take(chunk: Buffer): void {
    if (this.settled) return;
    this.decoded += chunk.length;
    if (this.decoded > this.limit) return this.stop(new OwlError('BODY_LIMIT', undefined, { url: this.url, limit: this.limit }));
    this.chunks.push(chunk);
  }

  private finishCollected(): void {
    const { chunks } = this;
    this.finish(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.decoded));
  }

  private finish(body: Buffer | null): void {
    if (this.settled) return;
    this.settled = true;
    this.resolve({ status: this.status, headers: this.headers, body, wireBytes: body === null ? 0 : this.wire });
  }

  /** Fails the exchange and ends the transfer (which also destroys the socket). */
  private stop(err: Error): void {
    this.fail(err);
    this.inflater?.destroy();
    this.controller?.abort(err);
  }

  private fail(err: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.chunks = [];
    this.reject(err);
  }
}
