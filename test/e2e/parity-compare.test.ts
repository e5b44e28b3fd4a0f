import { describe, expect, it } from 'vitest';
import { canonical, compareTopic } from './parity-compare.ts';

const value = (after: string, ts = '"ts_ms":1,"ts_us":1000,"ts_ns":1000000'): string =>
  `{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":true,"field":"s"}],"optional":false},`
  + `"payload":{"after":${after},"source":{"ts_ms":5,"ts_us":5000,"ts_ns":5000000},"op":"c",${ts}}}`;

describe('parity comparison', () => {
  it('masks only the envelope\'s processing time and the JVM identity strings', () => {
    expect(canonical(value('{"id":1,"s":"[Ljava.lang.String;@1b6d3586"}'))).toBe(canonical(value('{"id":1,"s":null}', '"ts_ms":2,"ts_us":2000,"ts_ns":2000000')));
    // The source block's commit time is compared.
    expect(canonical(value('{"id":1,"s":null}').replace('"ts_ms":5', '"ts_ms":6'))).not.toBe(canonical(value('{"id":1,"s":null}')));
  });

  it('reports each difference at its path, with both texts as written', () => {
    const differences = compareTopic(
      [{ key: null, value: value('{"id":1,"s":"1.0"}') }, { key: '{"id":2}', value: null }],
      [{ key: null, value: value('{"id":1,"s":"1.00"}') }, { key: '{"id":2}', value: null }],
    );
    expect(differences).toEqual([{ path: '#0.value.payload.after.s', expected: '"1.0"', actual: '"1.00"' }]);
  });

  it('reports a schema field that one side lacks, and a different record count', () => {
    const without = value('{"id":1}').replace(',{"type":"string","optional":true,"field":"s"}', '');
    expect(compareTopic([{ key: null, value: value('{"id":1,"s":null}') }], [{ key: null, value: without }, { key: null, value: null }])).toEqual([
      { path: 'record count', expected: '1', actual: '2' },
      { path: '#0.value.schema.fields[field=s]', expected: '{"type":"string","optional":true,"field":"s"}', actual: '(absent)' },
      { path: '#0.value.payload.after.s', expected: 'null', actual: '(absent)' },
    ]);
  });
});
