/**
 * What the console's browser tests share: Debian's Chromium through playwright-core (never a
 * downloaded browser), axe-core on a view in light and dark, screenshots at both widths.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, DEFAULT_CHROMIUM_PATH } from '../../src/crawl/browser/chromium-args.ts';

/** Screenshots of the test run (gitignored). */
export const SHOTS = path.resolve(import.meta.dirname, '../../screenshots/console');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: DEFAULT_CHROMIUM_PATH, args: [...CHROMIUM_ARGS] });
}

/** Photographs the current view at 360 and 1,440 px (light), and at 1,440 px dark; the viewport is left at 1,440 px. */
export async function shoot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  for (const width of [360, 1440]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: path.join(SHOTS, `${name}-${width}.png`), fullPage: true });
  }
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: path.join(SHOTS, `${name}-1440-dark.png`), fullPage: true });
  await page.emulateMedia({ colorScheme: 'light' });
}

/** axe-core on the current view, light and dark: no serious or critical violation. */
export async function assertAccessible(page: Page, view: string): Promise<void> {
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const { violations } = await new AxeBuilder({ page }).analyze();
    const bad = violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(' | ')}`);
    assert.deepEqual(bad, [], `${view} (${colorScheme}) has serious or critical accessibility violations`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

/** Waits until the job view shows the status word. */
export async function jobStatus(page: Page, word: string): Promise<void> {
  await page.locator('.job-status').getByText(word, { exact: true }).waitFor();
}
