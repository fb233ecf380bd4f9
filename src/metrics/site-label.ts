import { getDomain } from 'tldts';

export const OTHER_SITE = 'other';

/**
 * Maps a host name to the `site` label: its registrable domain (`shop.example.co.uk` →
 * `example.co.uk`; IP addresses and single-label hosts stay as they are), capped at `maxSites`
 * distinct values so a broad crawl cannot create unbounded series; later sites count as `other`.
 */
export class SiteLabeler {
  private readonly byHost = new Map<string, string>();
  private readonly sites = new Set<string>();

  /** @param maxSites distinct site label values before falling back to `other` (default 500). */
  constructor(private readonly maxSites = 500) {}

  label(hostname: string): string {
    const cached = this.byHost.get(hostname);
    if (cached !== undefined) return cached;
    const domain = getDomain(hostname, { allowPrivateDomains: false }) ?? hostname.toLowerCase();
    let site = domain;
    if (!this.sites.has(domain)) {
      if (this.sites.size >= this.maxSites) site = OTHER_SITE;
      else this.sites.add(domain);
    }
    // Bound the host cache too: hosts are unbounded even when sites are not.
    if (this.byHost.size >= this.maxSites * 20) this.byHost.clear();
    this.byHost.set(hostname, site);
    return site;
  }

  get distinctSites(): number {
    return this.sites.size;
  }
}
