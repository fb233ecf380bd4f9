-- Scraping: what a page yields, and sitemaps as a source of URLs.
-- pages.content is the page's record as its job's formats asked for it, compressed
-- (src/scrape/content-codec.ts); it is the last column, so lists that do not read it never touch
-- its overflow pages, and retention sets it to NULL. content_hash covers the main content and the
-- extracted data (src/scrape/content-hash.ts); lastmod is a sitemap's <lastmod> for the page.
ALTER TABLE pages ADD COLUMN content_hash TEXT;
ALTER TABLE pages ADD COLUMN lastmod INTEGER;
ALTER TABLE pages ADD COLUMN content BLOB;
CREATE INDEX pages_content_age ON pages (fetched_at) WHERE content IS NOT NULL;
-- frontier.kind: 0 page, 1 sitemap (src/store/frontier-state.ts). Sitemap entries are not pages:
-- jobs.admitted/queued/in_flight/fetched/failed count pages only, jobs.sitemaps the sitemap entries
-- still waiting or leased (a job ends when both are done).
ALTER TABLE frontier ADD COLUMN kind INTEGER NOT NULL DEFAULT 0;
ALTER TABLE frontier ADD COLUMN lastmod INTEGER;
ALTER TABLE jobs ADD COLUMN sitemaps INTEGER NOT NULL DEFAULT 0;
