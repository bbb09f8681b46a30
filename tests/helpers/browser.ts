import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { useForFile } from './lifecycle';

/** Debian's chromium (`apt-get install chromium`); playwright-core downloads no browser of its own. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Whether this machine can run the browser tests. CI sets BROWSER_TESTS=required (and installs chromium),
 * so there a missing browser fails instead of skipping.
 */
export function browserAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.BROWSER_TESTS === 'required') throw new Error(`BROWSER_TESTS=required but ${CHROMIUM} is missing (apt-get install chromium)`);
  console.warn(`SKIPPED: the console's browser tests need Debian's chromium at ${CHROMIUM} (apt-get install -y chromium); .ci/run installs it`);
  return false;
}

/**
 * Chromium headless with a fresh profile. On a closed network it must not reach for Google's services
 * (component updates, sync, background fetches, QUIC probes): each would hang or log until it gave up.
 */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'switchyard-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    // Short, so a full-page screenshot is as tall as the view's content and no more.
    viewport: { width: 1200, height: 480 },
    deviceScaleFactor: 1,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** This test file's browser: launched before its tests, closed after them. */
export function useChromium(): { context: BrowserContext } {
  return useForFile(launchChromium, (browser) => browser.close());
}
