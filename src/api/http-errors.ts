/**
 * Maps anything thrown while serving a request to the catalogue's `{error: {code, message}}`.
 * Bad input (schema, JSON syntax, size, media type) is always a 4xx; store failures are 503;
 * only what nobody anticipated is 500 INTERNAL.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorObject } from 'ajv';
import { ERRORS, OwlError, isOwlError, type ErrorCode } from '../errors.ts';
import { describeValidationError, type ValidationPart } from './validation.ts';

export interface HttpErrorBody {
  error: { code: ErrorCode; message: string };
}

/** Fastify's own request errors, by their code. */
const FASTIFY_CODES: Record<string, { code: ErrorCode; message?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'BODY_TOO_LARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'VALIDATION', message: 'Content-Length does not match the body' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'VALIDATION', message: 'The JSON body is empty' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'VALIDATION', message: 'The body is not valid JSON' },
  FST_ERR_BAD_URL: { code: 'VALIDATION', message: 'The request URL is malformed' },
  FST_ERR_NOT_FOUND: { code: 'NOT_FOUND' },
};

function errorCodeFor(status: number): ErrorCode {
  if (status === 404) return 'NOT_FOUND';
  if (status === 413) return 'BODY_TOO_LARGE';
  if (status === 415) return 'UNSUPPORTED_MEDIA_TYPE';
  return 'VALIDATION';
}

/**
 * The error to report when a value fails several alternatives (`anyOf`: a rule is a selector
 * string or an object): the deepest one names what is wrong inside the value the client meant.
 */
function mostSpecific(errors: ErrorObject[]): ErrorObject {
  let best = errors[0]!;
  for (const e of errors) if (e.instancePath.length > best.instancePath.length) best = e;
  return best;
}

/** The response for an error thrown during a request: an OwlError with the right code and status. */
export function toOwlError(err: unknown): OwlError {
  if (isOwlError(err)) return err;
  const e = err as Partial<FastifyError> & { validation?: ErrorObject[]; validationContext?: string };
  if (Array.isArray(e.validation) && e.validation.length > 0) {
    const part = (e.validationContext ?? 'body') as ValidationPart;
    return new OwlError('VALIDATION', describeValidationError(mostSpecific(e.validation), part), { part });
  }
  const known = e.code ? FASTIFY_CODES[e.code] : undefined;
  if (known) return new OwlError(known.code, known.message, {}, { cause: err });
  const status = e.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new OwlError(errorCodeFor(status), undefined, {}, { cause: err });
  }
  return new OwlError('INTERNAL', undefined, {}, { cause: err });
}

/**
 * A body refused as too large is read to its end (and thrown away) before the answer goes out,
 * up to this many bytes: a client still sending when the server closes the connection sees a
 * reset (EPIPE) instead of the 413. Past the bound the answer goes out and the connection closes.
 */
export const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;
const DRAIN_TIMEOUT_MS = 10_000;

/** Reads and discards what is left of a request body, within DRAIN_LIMIT_BYTES and DRAIN_TIMEOUT_MS. */
function drainBody(raw: FastifyRequest['raw']): Promise<void> {
  if (raw.readableEnded || raw.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const done = (): void => {
      clearTimeout(timer);
      raw.off('data', count).off('end', done).off('error', done).off('close', done);
      resolve();
    };
    const count = (chunk: Buffer): void => {
      seen += chunk.length;
      if (seen > DRAIN_LIMIT_BYTES) done();
    };
    const timer = setTimeout(done, DRAIN_TIMEOUT_MS);
    timer.unref();
    raw.on('data', count).once('end', done).once('error', done).once('close', done);
    raw.resume();
  });
}

/** Fastify error handler: logs bugs and store outages, answers with the catalogue's body. */
export function handleError(err: unknown, request: FastifyRequest, reply: FastifyReply): HttpErrorBody | Promise<HttpErrorBody> {
  const owl = toOwlError(err);
  if (owl.code === 'BODY_TOO_LARGE') {
    return drainBody(request.raw).then(() => answer(owl, request, reply));
  }
  return answer(owl, request, reply);
}

function answer(owl: OwlError, request: FastifyRequest, reply: FastifyReply): HttpErrorBody {
  if (owl.status >= 500) {
    // The cause is logged, never sent: it may hold SQL, paths or stack traces.
    request.log.error({ err: (owl.cause as Error | undefined) ?? owl, code: owl.code }, 'request failed');
  }
  if (owl.code === 'STORE_UNAVAILABLE') reply.header('retry-after', '1');
  if (typeof owl.details.retryAfterSeconds === 'number') reply.header('retry-after', String(owl.details.retryAfterSeconds));
  if (owl.code === 'UNAUTHORIZED') reply.header('www-authenticate', 'Bearer');
  reply.code(owl.status);
  return owl.toJSON() as HttpErrorBody;
}

/** Fastify not-found handler: every unmatched method+path is 404 NOT_FOUND. */
export function handleNotFound(request: FastifyRequest, reply: FastifyReply): HttpErrorBody {
  reply.code(404);
  const path = request.url.length > 120 ? `${request.url.slice(0, 120)}…` : request.url;
  return { error: { code: 'NOT_FOUND', message: `No route for ${request.method} ${path}` } };
}

/**
 * Answers the errors Fastify's router raises before any route or hook runs (malformed
 * percent-encoding → 400 VALIDATION, a path parameter over the length limit → 404 NOT_FOUND).
 * Returns the status sent.
 */
export function handleFrameworkError(err: FastifyError, reply: FastifyReply): number {
  const owl = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? new OwlError('NOT_FOUND') : toOwlError(err);
  reply.code(owl.status).send(owl.toJSON());
  return owl.status;
}

/** Programming errors that must surface as 500, not hide behind a 503. */
function isBug(err: unknown): boolean {
  return err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError || err instanceof SyntaxError;
}

/**
 * Runs one store call; a failure of the store itself (connection refused, SQLITE_BUSY, pool
 * exhausted…) becomes 503 STORE_UNAVAILABLE, which clients may retry.
 */
export async function viaStore<T>(op: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (isOwlError(err) || isBug(err)) throw err;
    throw new OwlError('STORE_UNAVAILABLE', `${ERRORS.STORE_UNAVAILABLE.message} (${op})`, { op }, { cause: err });
  }
}
