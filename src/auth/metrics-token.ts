/**
 * OWL_METRICS_TOKEN_FILE on an `owl worker`'s metrics server: /metrics answers only
 * `Authorization: Bearer <token>`, compared as a digest in constant time (the API's /metrics
 * checks the same token in its auth hook).
 */
import { hashKey, sameDigest } from './keys.ts';

/** Why a request may not read /metrics, or null when it may. */
export type MetricsRefusal = 'No token: /metrics needs Authorization: Bearer <the metrics token>' | 'The metrics token is not valid';

export function metricsTokenCheck(token: string): (authorization: string | undefined) => MetricsRefusal | null {
  const digest = hashKey(token);
  return (authorization) => {
    if (authorization === undefined) return 'No token: /metrics needs Authorization: Bearer <the metrics token>';
    const m = /^Bearer +(\S+) *$/i.exec(authorization);
    return m !== null && sameDigest(hashKey(m[1]!), digest) ? null : 'The metrics token is not valid';
  };
}
