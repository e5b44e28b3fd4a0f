import { describe, expect, it } from 'vitest';
import { interpolateString } from './interpolate.ts';

const env = { HOST: 'db', PORT: '5432', EMPTY: '', WEIRD: '${HOST}' };

describe('interpolateString', () => {
  const cases: { raw: string; value: string; interpolated: boolean; problems?: string[] }[] = [
    { raw: 'plain', value: 'plain', interpolated: false },
    { raw: '${HOST}', value: 'db', interpolated: true },
    { raw: 'postgres://${HOST}:${PORT}/app', value: 'postgres://db:5432/app', interpolated: true },
    { raw: '${MISSING:-fallback}', value: 'fallback', interpolated: true },
    { raw: '${EMPTY:-fallback}', value: 'fallback', interpolated: true },
    { raw: '${EMPTY}', value: '', interpolated: true },
    { raw: '${MISSING:-}', value: '', interpolated: true },
    { raw: '${HOST:-ignored}', value: 'db', interpolated: true },
    { raw: 'a:-b ${MISSING:-x:-y}', value: 'a:-b x:-y', interpolated: true },
    { raw: '$${HOST}', value: '${HOST}', interpolated: false },
    { raw: '$$${HOST}', value: '$${HOST}', interpolated: false },
    { raw: 'cost: $5 and $HOST', value: 'cost: $5 and $HOST', interpolated: false },
    // A value is not interpolated again.
    { raw: '${WEIRD}', value: '${HOST}', interpolated: true },
    {
      raw: '${MISSING} and ${ALSO_MISSING}',
      value: ' and ',
      interpolated: true,
      problems: [
        '0: environment variable MISSING is not set (use ${MISSING:-default} for a default)',
        '1: environment variable ALSO_MISSING is not set (use ${ALSO_MISSING:-default} for a default)',
      ],
    },
    { raw: 'x ${HOST', value: 'x ${HOST', interpolated: true, problems: ['0: unterminated "${" (write "$${" for a literal "${")'] },
    { raw: '${1BAD}', value: '', interpolated: true, problems: ['0: invalid variable reference "${1BAD}" (write "$${" for a literal "${")'] },
    { raw: '${}', value: '', interpolated: true, problems: ['0: invalid variable reference "${}" (write "$${" for a literal "${")'] },
  ];

  it.each(cases)('$raw', ({ raw, value, interpolated, problems = [] }) => {
    const result = interpolateString(raw, env);
    expect(result.problems.map((p) => `${p.reference}: ${p.message}`)).toEqual(problems);
    expect(result.interpolated).toBe(interpolated);
    if (problems.length === 0) expect(result.value).toBe(value);
  });
});
