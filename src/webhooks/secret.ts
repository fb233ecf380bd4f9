/**
 * Signing secrets in the Standard Webhooks form: `whsec_` + base64 of 24 to 64 random bytes (the
 * specification's bounds). The service generates 32 bytes unless the client brings its own.
 */
import { randomBytes } from 'node:crypto';
import { OwlError } from '../errors.ts';

const PREFIX = 'whsec_';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export function generateSecret(): string {
  return PREFIX + randomBytes(32).toString('base64');
}

/** Checks a client's secret; throws VALIDATION naming `secret` when it is not `whsec_` + base64 of 24–64 bytes. */
export function checkSecret(secret: string): string {
  const body = secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : '';
  const bytes = BASE64.test(body) && body.length % 4 === 0 ? Buffer.from(body, 'base64').length : 0;
  if (bytes < 24 || bytes > 64) {
    throw new OwlError('VALIDATION', 'secret must be "whsec_" followed by the base64 of 24 to 64 bytes (omit it to have one generated)', { field: 'secret' });
  }
  return secret;
}
