/**
 * Reading slotline's status page as a person would: in headless Chromium, the
 * figures by their data-testid (the text shown, and the raw number the page
 * keeps beside it in data-value).
 */
import type { Page } from 'playwright-core';
import type { HeadlessBrowser } from '../harness/browser.ts';

export interface StatusPage {
  page: Page;
  /** Script errors and failed requests the page met (a healthy page has none). */
  problems: string[];
  /** The text shown for a figure, and its raw number (NaN when it has none). */
  figure(testid: string): Promise<{ text: string; value: number }>;
  text(testid: string): Promise<string>;
}

export async function openStatusPage(browser: HeadlessBrowser, baseUrl: string, viewport?: { width: number; height: number }): Promise<StatusPage> {
  const page = await browser.page(viewport);
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`script error: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} ${req.failure()?.errorText ?? ''}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  const response = await page.goto(`${baseUrl}/`);
  if (!response?.ok()) throw new Error(`GET ${baseUrl}/ answered ${response?.status()}`);
  const text = async (testid: string): Promise<string> => ((await page.getByTestId(testid).textContent({ timeout: 10_000 })) ?? '').trim();
  return {
    page,
    problems,
    text,
    async figure(testid) {
      // Text and number read in one go: the page redraws every 2 s.
      const [shown, raw] = await page
        .getByTestId(testid)
        .evaluate((el: ShownFigure) => [el.textContent ?? '', el.getAttribute('data-value')] as const, undefined, { timeout: 10_000 });
      return { text: shown.trim(), value: raw === null ? Number.NaN : Number(raw) };
    },
  };
}

/** The DOM element's side that figure() reads (the project's TypeScript has no DOM types). */
interface ShownFigure {
  textContent: string | null;
  getAttribute(name: string): string | null;
}

/** An LSN as the page prints it (X/Y, hex) → a comparable number. */
export function lsnOf(text: string): bigint {
  const match = /^([0-9A-F]+)\/([0-9A-F]+)$/i.exec(text);
  if (!match) throw new Error(`not an LSN: "${text}"`);
  return (BigInt(`0x${match[1]}`) << 32n) + BigInt(`0x${match[2]}`);
}
