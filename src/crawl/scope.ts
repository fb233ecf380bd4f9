/**
 * Crawl scope: which discovered URLs belong to a job, judged against its seeds.
 */
import { getDomain } from 'tldts';
import type { JobScope } from '../store/types.ts';
import { hostOf, normalizeUrl } from './url.ts';

/**
 * Private suffixes (github.io, blogspot.com, …) count as public suffixes, so `a.github.io`
 * and `b.github.io` are different sites, as they are different owners.
 */
const DOMAIN_OPTIONS = { allowPrivateDomains: true } as const;

function stripWww(host: string): string {
  return host.startsWith('www.') ? host.slice(4) : host;
}

/** Registrable domain of a host, or the host itself for IPs, `localhost` and bare suffixes. */
function siteOf(host: string): string {
  return getDomain(host, DOMAIN_OPTIONS) ?? host;
}

/**
 * 'host': same host as a seed, ignoring a leading "www."; 'domain': same registrable domain
 * (tldts getDomain, private suffixes included) as a seed. Seeds that do not normalise to an
 * http(s) URL are ignored; with none left nothing is in scope. Ports are not compared.
 */
export function createScope(seeds: string[], scope: JobScope): (normalizedUrl: string) => boolean {
  const seedHosts: string[] = [];
  for (const seed of seeds) {
    const url = normalizeUrl(seed);
    if (url !== null) seedHosts.push(hostOf(url));
  }
  if (scope === 'host') {
    const hosts = new Set(seedHosts.map(stripWww));
    return (normalizedUrl) => hosts.has(stripWww(hostOf(normalizedUrl)));
  }
  const sites = [...new Set(seedHosts.map(siteOf))];
  return (normalizedUrl) => {
    const host = hostOf(normalizedUrl);
    for (const site of sites) {
      // getDomain(host) is a suffix of host, so only hosts ending in a seed's site can match.
      if (host === site) return true;
      if (host.endsWith(site) && host.charCodeAt(host.length - site.length - 1) === 46 /* . */) {
        return siteOf(host) === site;
      }
    }
    return false;
  };
}
