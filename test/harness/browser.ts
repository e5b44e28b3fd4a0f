/**
 * Headless Chromium for the tests that look at a page as a person would: the
 * Debian `chromium` package, driven by playwright-core. Never a browser that
 * playwright downloads itself (this machine reaches no such host, and CI must
 * not depend on one). A missing browser fails the test loudly with what to
 * install; nothing is skipped.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.SLOTLINE_CHROMIUM ?? '/usr/bin/chromium';

/** Quiet, offline, no profile left behind: the flags every launch uses. */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

export interface HeadlessBrowser {
  readonly context: BrowserContext;
  /** A new tab with the given viewport size. */
  page(viewport?: { width: number; height: number }): Promise<Page>;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<HeadlessBrowser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `headless browser tests need Chromium at ${CHROMIUM}, which is missing: ` +
        'install the Debian package (apt-get install chromium; .ci/run does) or set SLOTLINE_CHROMIUM to a Chromium binary',
    );
  }
  // A fresh profile per launch: nothing from an earlier run (or another test file) leaks in.
  const profile = await mkdtemp(join(tmpdir(), 'slotline-chromium-'));
  let context: BrowserContext;
  try {
    // playwright passes the profile as --user-data-dir itself (it refuses the flag in args).
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 30_000 });
  } catch (err) {
    await rm(profile, { recursive: true, force: true });
    throw new Error(`Chromium (${CHROMIUM}) did not start: ${(err as Error).message}`);
  }
  return {
    context,
    async page(viewport = { width: 1280, height: 900 }) {
      const page = await context.newPage();
      await page.setViewportSize(viewport);
      return page;
    },
    async close() {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}
