/** Keys never reach the logs: the logger's redaction covers every place a request's Authorization header could be logged. */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { generateKey } from '../../src/auth/keys.ts';
import { REDACT_PATHS } from '../../src/log.ts';

it('an Authorization header logged with a request, or on its own, is redacted', () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const logger = pino({ redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink);
  const key = generateKey();
  logger.error({ req: { method: 'GET', url: '/jobs', headers: { authorization: `Bearer ${key}` } } }, 'failed');
  logger.error({ request: { headers: { authorization: `Bearer ${key}` } } }, 'failed');
  logger.warn({ headers: { authorization: `Bearer ${key}`, host: 'x' } }, 'odd');
  logger.info({ authorization: `Bearer ${key}` }, 'odd');
  assert.equal(lines.length, 4);
  for (const line of lines) {
    assert.ok(!line.includes(key), line);
    assert.match(line, /\[redacted\]/);
  }
});
