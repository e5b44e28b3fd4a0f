import { describe, expect, it } from 'vitest';
import { STATUS_PAGE_SCRIPT } from './status-page-script.ts';
import { statusPageHtml } from './status-page.ts';

describe('statusPageHtml', () => {
  const html = statusPageHtml();

  it('is one self-contained document: no external script, style, font or image', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script[^>]*\ssrc=/i);
    expect(html).not.toMatch(/<link[^>]*rel="stylesheet"/i);
    expect(html).not.toMatch(/@import|url\(/i);
    // The only absolute URL is the SVG namespace, which is a name, not a request.
    const urls = [...html.matchAll(/https?:\/\/[^\s'"<>)]+/g)].map((m) => m[0]);
    expect(new Set(urls)).toEqual(new Set(['http://www.w3.org/2000/svg']));
  });

  it('inlines a script that parses as JavaScript', () => {
    // new Function compiles the body without running it: a syntax error throws here.
    expect(() => new Function(STATUS_PAGE_SCRIPT)).not.toThrow();
    expect(html).toContain(STATUS_PAGE_SCRIPT);
  });

  it('polls the relative status URL, so it works behind a path prefix', () => {
    expect(html).toContain("fetch('status'");
    expect(html).toContain('const POLL_MS = 2000;');
  });

  it('never parses data as HTML', () => {
    const script = html.slice(html.indexOf('<script>'));
    for (const sink of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'new Function', 'srcdoc']) {
      expect(script, sink).not.toContain(sink);
    }
  });

  it('gives the figures a test reads stable data-testid attributes', () => {
    const quoted = (id: string): boolean => html.includes(`"${id}"`) || html.includes(`'${id}'`);
    for (const id of ['state', 'lag-bytes', 'lag-seconds', 'ready-reasons', 'chart-lag-bytes', 'chart-rows', 'sinks']) expect(quoted(id), id).toBe(true);
    for (const suffix of ['-rows', '-checkpoint', '-lag', '-error', '-state', '-events']) expect(html).toContain(`id + '${suffix}'`);
  });
});
