import { describe, expect, it } from 'vitest';
import { elasticsearchConfigProblems, elasticsearchConfigSchema } from './elasticsearch-config.ts';
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

describe('elasticsearch config', () => {
  it('fills defaults and checks cross-key rules', () => {
    const config = elasticsearchConfigSchema.parse({ node: 'http://127.0.0.1:9200' });
    expect(config).toMatchObject({ index: '{schema}.{table}', truncate: 'ignore', on_record_error: 'fail', dead_letter_index: 'slotline-dlq', batch: { max_actions: 1000, concurrency: 2 } });
    expect(elasticsearchConfigProblems(config)).toEqual([]);
    expect(elasticsearchConfigProblems({ node: undefined, nodes: undefined })).toEqual(['give exactly one of `node` or `nodes`']);
    expect(elasticsearchConfigSchema.safeParse({ node: '127.0.0.1:9200' }).success).toBe(false);
  });
});
