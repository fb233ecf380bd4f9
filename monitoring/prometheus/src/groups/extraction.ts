/**
 * Scraping: a job's extraction rules on the pages of each site. The failure users of scrapers fear
 * most is the page layout changing under a running scraper: the rules still run, but a required
 * field comes back empty on most pages. This group watches the share of such pages per site and
 * alerts when it jumps compared with an hour before.
 */
import { WORKER_METRICS } from '../../../../src/metrics/definitions.ts';
import { alerts, selectors } from '../config.ts';
import { alert, lines, percent, record, sel, spoken, type RuleGroup } from '../rule.ts';

const MISSING_SHARE = 'site:pages_extracted_missing_required:ratio_rate15m';
const EXTRACTED_RATE = 'site:pages_extracted:rate15m';

export function extractionRecordingGroup(): RuleGroup {
  const c = alerts.ExtractionFieldsMissing;
  const all = sel(WORKER_METRICS.pagesExtracted.name, selectors.crawler);
  const missing = sel(WORKER_METRICS.pagesExtracted.name, selectors.crawler, 'outcome="missing_required"');
  return {
    name: 'extraction.recording',
    rules: [
      record(EXTRACTED_RATE, `sum by (site) (rate(${all}[${c.window}]))`),
      record(
        MISSING_SHARE,
        lines(
          `(`,
          `  sum by (site) (rate(${missing}[${c.window}]))`,
          `  or`,
          `  sum by (site) (rate(${all}[${c.window}])) * 0`,
          `)`,
          `/`,
          `(sum by (site) (rate(${all}[${c.window}])) > 0)`,
        ),
        { comment: 'Share (0..1) of a site\'s extracted pages with a required field empty; `or … * 0` gives 0 when none is missing.' },
      ),
    ],
  };
}

export function extractionAlertGroup(): RuleGroup {
  const c = alerts.ExtractionFieldsMissing;
  return {
    name: 'extraction.rules',
    rules: [
      alert({
        name: 'ExtractionFieldsMissing',
        expr: lines(
          `${MISSING_SHARE} > ${c.share}`,
          `and`,
          `${MISSING_SHARE} - ${MISSING_SHARE} offset ${c.baseline} > ${c.jump}`,
          `and`,
          `${EXTRACTED_RATE} > ${c.minRate}`,
        ),
        for: c.for,
        severity: 'warning',
        component: 'scraper',
        summary: 'Required fields are missing on {{ $labels.site }}',
        description: `{{ $value | humanizePercentage }} of the pages extracted on {{ $labels.site }} have a required field empty, more than ${percent(c.share)} % and ${percent(c.jump)} points more than ${spoken(c.baseline)} before: the site's pages probably changed under the extraction rules.`,
        comment: 'A jump, not a level: rules that never fit a site are a job to fix, not an outage; the scraper must have run an hour ago.',
      }),
    ],
  };
}
