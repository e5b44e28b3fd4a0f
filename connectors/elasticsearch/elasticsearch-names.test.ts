import { describe, expect, it } from 'vitest';
import { createIndexNamer, indexTemplateProblems } from './elasticsearch-names.ts';

describe('indexTemplateProblems', () => {
  it.each([
    { template: '{schema}.{table}', problems: [] },
    { template: 'search-{prefix}-{table}', problems: [] },
    { template: '{db}.{table}', problems: ['unknown placeholder "{db}" in index template (allowed: {prefix}, {schema}, {table})'] },
    { template: '{schema}/{table}', problems: ['index template "{schema}/{table}": character "/" is not allowed in an index name "x/x"'] },
    { template: '_{table}', problems: ['index template "_{table}": index name "_x" must not start with "-", "_" or "+"'] },
    { template: '{table', problems: ['unbalanced "{" or "}" in index template "{table"'] },
    { template: '', problems: ['index template is empty'] },
  ])('$template', ({ template, problems }) => {
    expect(indexTemplateProblems(template)).toEqual(problems);
  });
});

describe('createIndexNamer', () => {
  it('expands and lower-cases, and refuses a table whose name makes an invalid index', () => {
    const indexOf = createIndexNamer('{prefix}.{schema}.{table}', 'App');
    expect(indexOf({ schema: 'Public', table: 'Orders' })).toBe('app.public.orders');
    expect(() => indexOf({ schema: 'public', table: 'a b' })).toThrow(/character " " is not allowed/);
  });
});
