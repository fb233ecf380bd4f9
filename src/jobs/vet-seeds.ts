/** Vetting of the URLs a request names (job seeds, the URL of POST /scrape): absolute http(s), allowed targets. */
import { assertTargetAllowed } from '../crawl/target-guard.ts';
import { normalizeUrl } from '../crawl/url.ts';
import { OwlError, isOwlError } from '../errors.ts';

/**
 * Normalises and vets every URL; the first bad one is reported with its index, named
 * `seeds[i]` (or `field` alone when `field` is not `seeds`, for a request naming a single URL).
 */
export function vetSeeds(seeds: string[], allowPrivate: boolean, field = 'seeds'): string[] {
  return seeds.map((raw, i) => {
    const name = field === 'seeds' ? `seeds[${i}]` : field;
    const url = normalizeUrl(raw);
    if (url === null) throw new OwlError('INVALID_URL', `${name} is not an absolute http(s) URL`, { index: i });
    if (new URL(url).port === '0') throw new OwlError('INVALID_URL', `${name} has port 0, which no server listens on`, { index: i });
    try {
      assertTargetAllowed(url, allowPrivate);
    } catch (err) {
      if (isOwlError(err, 'TARGET_FORBIDDEN')) {
        throw new OwlError(err.code, `${name}: ${err.message}; an operator can allow such targets with OWL_ALLOW_PRIVATE_TARGETS=true`, { ...err.details, index: i });
      }
      if (isOwlError(err)) throw new OwlError(err.code, `${name}: ${err.message}`, { ...err.details, index: i });
      throw err;
    }
    return url;
  });
}
