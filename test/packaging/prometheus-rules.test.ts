/**
 * The alert rules in config/prometheus/alerts.yml, checked by the real
 * promtool: `check rules` (syntax, templates) and `test rules` with
 * alerts.test.yml, which feeds series and says which alerts fire, when, with
 * which labels and text. Plus what promtool cannot know: every alert is
 * unit-tested, has a severity, and links to a runbook section that exists.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO } from '../e2e/support.ts';
import { promtool } from './promtool.ts';

const dir = join(REPO, 'config', 'prometheus');
const rules: { alert: string; expr: string; for?: string; labels: Record<string, string>; annotations: Record<string, string> }[] =
  parse(readFileSync(join(dir, 'alerts.yml'), 'utf8')).groups.flatMap((g: { rules: unknown[] }) => g.rules);

/** GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to dashes. */
function headingAnchor(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

describe('config/prometheus/alerts.yml', () => {
  it('passes promtool check rules', () => {
    const { status, output } = promtool(['check', 'rules', 'alerts.yml'], dir);
    expect(output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(status, output).toBe(0);
  });

  it('passes its unit tests (promtool test rules alerts.test.yml)', () => {
    const { status, output } = promtool(['test', 'rules', 'alerts.test.yml'], dir);
    expect(output).toContain('SUCCESS');
    expect(status, output).toBe(0);
  });

  it('has the alerts operators need, each with a unit test', () => {
    const alerts = new Set(rules.map((r) => r.alert));
    expect([...alerts].sort()).toEqual([
      'SlotlineDown', 'SlotlineLagHigh', 'SlotlineNotReady', 'SlotlineRetainedWalHigh',
      'SlotlineSinkErrors', 'SlotlineSlotInactive', 'SlotlineSlotLost', 'SlotlineSlotNearWalLimit',
    ]);
    const tests = parse(readFileSync(join(dir, 'alerts.test.yml'), 'utf8')).tests as { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
    const firing = new Set(tests.flatMap((t) => t.alert_rule_test.filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname)));
    const silent = new Set(tests.flatMap((t) => t.alert_rule_test.filter((a) => a.exp_alerts.length === 0).map((a) => a.alertname)));
    for (const alert of alerts) expect(firing.has(alert), `a test in which ${alert} fires`).toBe(true);
    // "for:" alerts also get a test that they stay silent while pending.
    for (const rule of rules.filter((r) => r.for)) expect(silent.has(rule.alert), `a test in which ${rule.alert} does not fire`).toBe(true);
  });

  it('gives every alert a severity, a summary, a description and a runbook section that exists', () => {
    const operations = readFileSync(join(REPO, 'docs', 'operations.md'), 'utf8');
    const anchors = new Set([...operations.matchAll(/^#{1,6} (.+)$/gm)].map((m) => headingAnchor(m[1])));
    for (const rule of rules) {
      expect(['warning', 'critical'], rule.alert).toContain(rule.labels.severity);
      expect(rule.annotations.summary, rule.alert).toBeTruthy();
      expect(rule.annotations.description, rule.alert).toBeTruthy();
      const [file, anchor] = rule.annotations.runbook_url.split('#');
      expect(file, rule.alert).toBe('docs/operations.md');
      expect(anchors.has(anchor), `docs/operations.md has a heading for #${anchor}`).toBe(true);
    }
  });
});
