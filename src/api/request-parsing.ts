/**
 * How request bytes become a request, before any route runs: the JSON body parser (prototype
 * poisoning refused by name, not as "invalid JSON") and the answer to requests Node's HTTP parser
 * rejects (headers or request line too large, malformed requests) in the catalogue's JSON shape.
 */
import type { Socket } from 'node:net';
import secureJsonParse from 'secure-json-parse';
import { OwlError } from '../errors.ts';

/**
 * Parses a JSON body. An empty body is "no body" (POST /jobs/:id/cancel from clients that always
 * send the header). Keys that would poison prototypes are refused by name.
 */
export function parseJsonBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return secureJsonParse.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (err) {
    // secure-json-parse says "forbidden prototype property" for both kinds of poisoning.
    if (/forbidden (prototype|constructor) property/.test((err as Error).message)) {
      if (text.includes('"__proto__"')) {
        throw new OwlError('VALIDATION', 'The body contains the key "__proto__", which is refused (prototype poisoning)', { field: '__proto__' });
      }
      throw new OwlError('VALIDATION', 'The body contains "constructor.prototype", which is refused (prototype poisoning)', { field: 'constructor' });
    }
    throw new OwlError('VALIDATION', 'The body is not valid JSON');
  }
}

/**
 * Node's HTTP parser answers some requests before Fastify sees them: 431 for a request line or
 * headers over its limit, 400 for a malformed request. Answer in the catalogue's shape, then close.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const owl =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? new OwlError('HEADERS_TOO_LARGE')
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new OwlError('VALIDATION', 'The request was not received in time')
        : new OwlError('VALIDATION', 'The request is not valid HTTP');
  const status = owl.status === 431 ? '431 Request Header Fields Too Large' : owl.status === 400 ? '400 Bad Request' : `${owl.status} Error`;
  const body = JSON.stringify(owl.toJSON());
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
