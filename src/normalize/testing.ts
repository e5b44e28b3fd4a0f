/**
 * Fixtures shared by the normalizer's unit tests: a type lookup with a few
 * catalog types of the shapes type-catalog.ts returns, default options, and a
 * Relation builder. Not used by production code.
 */
import type { Relation, RelationColumn, ReplicaIdentity } from '../types.ts';
import { DEFAULT_NORMALIZE_OPTIONS, type NormalizeOptions } from './options.ts';
import { builtinType, type PgTypeInfo } from './pg-types.ts';

const custom = (oid: number, name: string, extra: Partial<PgTypeInfo>): PgTypeInfo => ({
  oid, name, schema: 'public', kind: 'base', category: 'U', elementOid: 0, baseOid: 0, baseTypmod: -1, notNull: false, ...extra,
});

/** OIDs of the catalog types below. */
export const T = {
  mood: 90001, moodArray: 90002, price: 90003, priceAlias: 90004, priceArray: 90005, hstore: 90006, hstoreArray: 90007,
  ltree: 90008, citext: 90009, vector: 90010, halfvec: 90011, sparsevec: 90012, geometry: 90013, geography: 90014,
  pair: 90015, email: 90016, citextArray: 90017, moodDomain: 90018, ltreeArray: 90019, textArrayDomain: 90020,
} as const;

const CUSTOM = new Map<number, PgTypeInfo>([
  [T.mood, custom(T.mood, 'mood', { kind: 'enum', category: 'E', enumValues: ['sad', 'ok', 'happy'] })],
  [T.moodArray, custom(T.moodArray, '_mood', { kind: 'array', category: 'A', elementOid: T.mood })],
  // CREATE DOMAIN price AS numeric(10,2); CREATE DOMAIN price_alias AS price;
  [T.price, custom(T.price, 'price', { kind: 'domain', category: 'N', baseOid: 1700, baseTypmod: (10 << 16 | 2) + 4 })],
  [T.priceAlias, custom(T.priceAlias, 'price_alias', { kind: 'domain', category: 'N', baseOid: T.price })],
  [T.priceArray, custom(T.priceArray, '_price', { kind: 'array', category: 'A', elementOid: T.price })],
  [T.hstore, custom(T.hstore, 'hstore', {})],
  [T.hstoreArray, custom(T.hstoreArray, '_hstore', { kind: 'array', category: 'A', elementOid: T.hstore })],
  [T.ltree, custom(T.ltree, 'ltree', {})],
  [T.citext, custom(T.citext, 'citext', { category: 'S' })],
  [T.citextArray, custom(T.citextArray, '_citext', { kind: 'array', category: 'A', elementOid: T.citext })],
  [T.vector, custom(T.vector, 'vector', {})],
  [T.halfvec, custom(T.halfvec, 'halfvec', {})],
  [T.sparsevec, custom(T.sparsevec, 'sparsevec', {})],
  [T.geometry, custom(T.geometry, 'geometry', {})],
  [T.geography, custom(T.geography, 'geography', {})],
  [T.pair, custom(T.pair, 'pair', { kind: 'composite', category: 'C' })],
  [T.email, custom(T.email, 'email', { kind: 'domain', category: 'S', baseOid: 25, notNull: true })],
  [T.moodDomain, custom(T.moodDomain, 'mood_domain', { kind: 'domain', category: 'E', baseOid: T.mood })],
  [T.ltreeArray, custom(T.ltreeArray, '_ltree', { kind: 'array', category: 'A', elementOid: T.ltree })],
  // CREATE DOMAIN textarr AS text[];
  [T.textArrayDomain, custom(T.textArrayDomain, 'textarr', { kind: 'domain', category: 'A', baseOid: 1009 })],
]);

export function lookup(oid: number): PgTypeInfo {
  const t = builtinType(oid) ?? CUSTOM.get(oid);
  if (t === undefined) throw new Error(`unknown test type ${oid}`);
  return t;
}

export function options(overrides: Partial<NormalizeOptions> = {}): NormalizeOptions {
  return { ...DEFAULT_NORMALIZE_OPTIONS, topicPrefix: 'pg', database: 'app', ...overrides };
}

/** numeric(p,s) atttypmod. */
export const numericMod = (precision: number, scale: number): number => ((precision << 16) | scale) + 4;

export function relation(
  columns: [name: string, typeOid: number, options?: { key?: boolean; typeMod?: number }][],
  replicaIdentity: ReplicaIdentity = 'default',
  table = 'items',
): Relation {
  return {
    relationId: 16400,
    schema: 'public',
    table,
    replicaIdentity,
    columns: columns.map(([name, typeOid, o]): RelationColumn => ({
      name, typeOid, isKey: o?.key ?? false, typeMod: o?.typeMod ?? -1,
    })),
  };
}
