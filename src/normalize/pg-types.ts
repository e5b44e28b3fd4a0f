/**
 * What the normalizer needs to know about a Postgres type, and the table of
 * built-in types (PostgreSQL 17's pg_catalog; their OIDs are fixed across
 * versions). Types outside the table (enums, domains, extension types, arrays
 * of those) come from the catalog: src/source/type-catalog.ts.
 */

export type PgTypeKind = 'base' | 'array' | 'enum' | 'domain' | 'range' | 'multirange' | 'composite' | 'pseudo';

export interface PgTypeInfo {
  oid: number;
  /** pg_type.typname, e.g. `int4`, `_int4`, `hstore`. Extension types are recognised by this name. */
  name: string;
  /** Namespace of the type. */
  schema: string;
  kind: PgTypeKind;
  /** pg_type.typcategory. */
  category: string;
  /** Arrays: the element type. 0 otherwise. */
  elementOid: number;
  /** Domains: the type the domain is declared over (may itself be a domain). 0 otherwise. */
  baseOid: number;
  /** Domains: pg_type.typtypmod, the modifier the domain puts on its base type; -1 if none. */
  baseTypmod: number;
  /** Domains: NOT NULL declared on the domain. */
  notNull: boolean;
  /** Enums: labels in enumsortorder order. */
  enumValues?: readonly string[];
}

/** Looks a type up by OID; throws if the type was never resolved (see type-catalog.ts). */
export type TypeLookup = (oid: number) => PgTypeInfo;

// oid:typname:<typtype><typcategory>[:element oid for arrays]
const BUILTIN_TABLE = `
  16:bool:bB 17:bytea:bU 18:char:bZ 19:name:bS 20:int8:bN 21:int2:bN 22:int2vector:bA 23:int4:bN
  24:regproc:bN 25:text:bS 26:oid:bN 27:tid:bU 28:xid:bU 29:cid:bU 30:oidvector:bA 114:json:bU
  142:xml:bU 143:_xml:bA:142 194:pg_node_tree:bZ 199:_json:bA:114 271:_xid8:bA:5069 600:point:bG
  601:lseg:bG 602:path:bG 603:box:bG 604:polygon:bG 628:line:bG 629:_line:bA:628 650:cidr:bI
  651:_cidr:bA:650 700:float4:bN 701:float8:bN 718:circle:bG 719:_circle:bA:718 774:macaddr8:bU
  775:_macaddr8:bA:774 790:money:bN 791:_money:bA:790 829:macaddr:bU 869:inet:bI 1000:_bool:bA:16
  1001:_bytea:bA:17 1002:_char:bA:18 1003:_name:bA:19 1005:_int2:bA:21 1006:_int2vector:bA:22
  1007:_int4:bA:23 1008:_regproc:bA:24 1009:_text:bA:25 1010:_tid:bA:27 1011:_xid:bA:28
  1012:_cid:bA:29 1013:_oidvector:bA:30 1014:_bpchar:bA:1042 1015:_varchar:bA:1043 1016:_int8:bA:20
  1017:_point:bA:600 1018:_lseg:bA:601 1019:_path:bA:602 1020:_box:bA:603 1021:_float4:bA:700
  1022:_float8:bA:701 1027:_polygon:bA:604 1028:_oid:bA:26 1033:aclitem:bU 1034:_aclitem:bA:1033
  1040:_macaddr:bA:829 1041:_inet:bA:869 1042:bpchar:bS 1043:varchar:bS 1082:date:bD 1083:time:bD
  1114:timestamp:bD 1115:_timestamp:bA:1114 1182:_date:bA:1082 1183:_time:bA:1083 1184:timestamptz:bD
  1185:_timestamptz:bA:1184 1186:interval:bT 1187:_interval:bA:1186 1231:_numeric:bA:1700
  1266:timetz:bD 1270:_timetz:bA:1266 1560:bit:bV 1561:_bit:bA:1560 1562:varbit:bV
  1563:_varbit:bA:1562 1700:numeric:bN 1790:refcursor:bU 2201:_refcursor:bA:1790 2202:regprocedure:bN
  2203:regoper:bN 2204:regoperator:bN 2205:regclass:bN 2206:regtype:bN 2207:_regprocedure:bA:2202
  2208:_regoper:bA:2203 2209:_regoperator:bA:2204 2210:_regclass:bA:2205 2211:_regtype:bA:2206
  2949:_txid_snapshot:bA:2970 2950:uuid:bU 2951:_uuid:bA:2950 2970:txid_snapshot:bU 3220:pg_lsn:bU
  3221:_pg_lsn:bA:3220 3361:pg_ndistinct:bZ 3402:pg_dependencies:bZ 3614:tsvector:bU 3615:tsquery:bU
  3642:gtsvector:bU 3643:_tsvector:bA:3614 3644:_gtsvector:bA:3642 3645:_tsquery:bA:3615
  3734:regconfig:bN 3735:_regconfig:bA:3734 3769:regdictionary:bN 3770:_regdictionary:bA:3769
  3802:jsonb:bU 3807:_jsonb:bA:3802 3904:int4range:rR 3905:_int4range:bA:3904 3906:numrange:rR
  3907:_numrange:bA:3906 3908:tsrange:rR 3909:_tsrange:bA:3908 3910:tstzrange:rR
  3911:_tstzrange:bA:3910 3912:daterange:rR 3913:_daterange:bA:3912 3926:int8range:rR
  3927:_int8range:bA:3926 4072:jsonpath:bU 4073:_jsonpath:bA:4072 4089:regnamespace:bN
  4090:_regnamespace:bA:4089 4096:regrole:bN 4097:_regrole:bA:4096 4191:regcollation:bN
  4192:_regcollation:bA:4191 4451:int4multirange:mR 4532:nummultirange:mR 4533:tsmultirange:mR
  4534:tstzmultirange:mR 4535:datemultirange:mR 4536:int8multirange:mR 4600:pg_brin_bloom_summary:bZ
  4601:pg_brin_minmax_multi_summary:bZ 5017:pg_mcv_list:bZ 5038:pg_snapshot:bU
  5039:_pg_snapshot:bA:5038 5069:xid8:bU 6150:_int4multirange:bA:4451 6151:_nummultirange:bA:4532
  6152:_tsmultirange:bA:4533 6153:_tstzmultirange:bA:4534 6155:_datemultirange:bA:4535
  6157:_int8multirange:bA:4536
`;

const KIND_OF_TYPTYPE: Record<string, PgTypeKind> = { b: 'base', r: 'range', m: 'multirange' };

const BUILTINS = new Map<number, PgTypeInfo>();
for (const entry of BUILTIN_TABLE.split(/\s+/)) {
  if (entry === '') continue;
  const [oid, name, flags, element] = entry.split(':');
  // int2vector and oidvector are category A but print as "1 2 3", not as arrays.
  const isArray = flags[1] === 'A' && name.startsWith('_');
  BUILTINS.set(Number(oid), {
    oid: Number(oid),
    name,
    schema: 'pg_catalog',
    kind: isArray ? 'array' : KIND_OF_TYPTYPE[flags[0]],
    category: flags[1],
    elementOid: isArray ? Number(element) : 0,
    baseOid: 0,
    baseTypmod: -1,
    notNull: false,
  });
}

/** The built-in type with this OID, or undefined. */
export function builtinType(oid: number): PgTypeInfo | undefined {
  return BUILTINS.get(oid);
}

/** OIDs of the built-in types Debezium names in its mapping, for readable code elsewhere. */
export const OID = {
  bool: 16, bytea: 17, char: 18, name: 19, int8: 20, int2: 21, int4: 23, text: 25, oid: 26,
  json: 114, xml: 142, point: 600, float4: 700, float8: 701, money: 790, bpchar: 1042, varchar: 1043,
  date: 1082, time: 1083, timestamp: 1114, timestamptz: 1184, interval: 1186, timetz: 1266,
  bit: 1560, varbit: 1562, numeric: 1700, uuid: 2950, jsonb: 3802,
} as const;

// ─── Type modifiers (atttypmod), decoded the way pgjdbc's TypeInfoCache does ──

/** numeric(p,s): null when unconstrained (typmod -1). */
export function numericTypmod(typmod: number): { precision: number; scale: number } | null {
  if (typmod < 0) return null;
  const t = typmod - 4;
  // The scale is an 11-bit signed field since PG 15 (numeric(p,-s)).
  let scale = t & 0x7ff;
  if (scale > 1023) scale -= 2048;
  return { precision: (t >> 16) & 0xffff, scale };
}

/** Fractional-second digits of time/timetz/timestamp/timestamptz: 6 when unconstrained. */
export function timePrecision(typmod: number): number {
  return typmod < 0 ? 6 : typmod;
}

/** Declared length in bits of bit(n)/varbit(n); Integer.MAX_VALUE when unbounded, as pgjdbc reports. */
export function bitLength(typmod: number): number {
  return typmod < 0 ? 2147483647 : typmod;
}
