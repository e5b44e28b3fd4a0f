/**
 * The `snapshot` section: how slotline loads the rows a table already holds
 * (Debezium's `snapshot.*` settings, same names and meanings where Debezium has them).
 */
import { z } from 'zod';
import { count, durationMs, qualifiedTableName } from './schema-parts.ts';

export const SNAPSHOT_MODES = ['initial', 'no_data', 'initial_only', 'always', 'when_needed'] as const;
export type SnapshotMode = (typeof SNAPSHOT_MODES)[number];

export const snapshotSchema = z
  .strictObject({
    mode: z
      .enum(SNAPSHOT_MODES)
      .default('initial')
      .describe(
        'Debezium `snapshot.mode`. `initial`: snapshot when slotline creates the slot, when an earlier initial snapshot did not finish, or when the slot exists but slotline has no record of a snapshot for it (a slot made by hand: a warning says so), then stream. ' +
          '`no_data`: never snapshot, stream from the slot. `initial_only`: snapshot as `initial` would, then exit without streaming. ' +
          '`always`: snapshot on every start, then stream from the slot (rows changed since the slot\'s position arrive again). ' +
          '`when_needed`: like `initial`, and also when the slot was invalidated (its WAL is gone): the slot is dropped, recreated and the tables snapshotted.',
      ),
    max_connections: count(1, 'Tables read in parallel, each on its own connection; all share one snapshot, so the rows are consistent across tables (Debezium `snapshot.max.threads`).'),
    fetch_size: count(10_240, 'Rows fetched from a table per round trip (Debezium `snapshot.fetch.size`); with the in-flight ceiling this bounds memory.'),
    chunk_size: count(1024, 'Rows per chunk of a re-snapshot while streaming (`slotline snapshot`), each read between two watermarks (Debezium `incremental.snapshot.chunk.size`).'),
    tables: z
      .array(qualifiedTableName)
      .optional()
      .meta({ description: 'Only these captured tables are snapshotted (Debezium `snapshot.include.collection.list`). Default: every captured table some sink routes.', docDefault: 'every routed table' }),
    state_table: qualifiedTableName
      .default('public.slotline_snapshots')
      .describe('Table where slotline records snapshot progress (created when first needed; needs CREATE on its schema). An initial snapshot that did not finish is found here and taken again. Its changes are never routed to sinks.'),
    progress_interval_ms: durationMs(5_000, 'How often progress is logged per table when stderr is not a terminal (a terminal gets live progress bars).', 100),
  })
  .prefault({})
  .describe('Snapshots: loading the rows that tables already hold.');

export type SnapshotConfig = z.output<typeof snapshotSchema>;
