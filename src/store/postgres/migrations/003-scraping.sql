-- Scraping: what a page yields, and sitemaps as a source of URLs.
-- pages.content is the page's record as its job's formats asked for it, compressed
-- (src/scrape/content-codec.ts; TOASTed out of line, so lists that do not read it stay cheap);
-- retention sets it to NULL. content_hash covers the main content and the extracted data
-- (src/scrape/content-hash.ts); lastmod is a sitemap's <lastmod> for the page.
ALTER TABLE pages ADD COLUMN content_hash text;
ALTER TABLE pages ADD COLUMN lastmod bigint;
ALTER TABLE pages ADD COLUMN content bytea;
CREATE INDEX pages_content_age ON pages (fetched_at) WHERE content IS NOT NULL;
-- frontier.kind: 0 page, 1 sitemap (src/store/frontier-state.ts). Sitemap entries are not pages:
-- jobs.admitted/fetched/failed and the leased count of a job cover pages only; jobs.sitemaps counts
-- the sitemap entries still waiting or leased (a job ends when both are done).
ALTER TABLE frontier ADD COLUMN kind smallint NOT NULL DEFAULT 0;
ALTER TABLE frontier ADD COLUMN lastmod bigint;
ALTER TABLE jobs ADD COLUMN sitemaps integer NOT NULL DEFAULT 0;
-- A job's options keep the order their author wrote: extraction fields become CSV columns in that
-- order, and jsonb would sort the keys.
ALTER TABLE jobs ALTER COLUMN options TYPE json USING options::json;
