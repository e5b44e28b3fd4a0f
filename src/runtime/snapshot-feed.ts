/**
 * How a snapshot (the initial one, or a rebuild's consistent read) feeds the
 * pipeline: through the same sink runners, in-flight budget and retries as
 * the stream. Past the ceiling it waits for room, as the socket does.
 */
import type { Telemetry } from '../observe/telemetry.ts';
import type { Router } from '../route/router.ts';
import type { SnapshotFeed } from '../snapshot/snapshot-runner.ts';
import type { PauseControl } from './pause-control.ts';
import type { SinkRunner } from './sink-runner.ts';

export interface PipelineSnapshotFeedOptions {
  router: Router;
  /** Index-aligned with the router's sinks. */
  runners: readonly SinkRunner[];
  telemetry: Pick<Telemetry, 'countReceived'>;
  pause: PauseControl;
  /** The pipeline is stopping: read no further, and wait for no room. */
  stopping(): boolean;
}

export interface PipelineSnapshotFeed {
  feed: SnapshotFeed;
  /** Ends every wait for room: the budget has room again, or the pipeline stops. */
  wake(): void;
}

export function createSnapshotFeed({ router, runners, telemetry, pause, stopping }: PipelineSnapshotFeedOptions): PipelineSnapshotFeed {
  let roomWaiters: Array<() => void> = [];
  const full = (): boolean => pause.has('budget') && !stopping();
  const feed: SnapshotFeed = {
    push(event) {
      for (const i of router.sinksFor(event.schema, event.table)) runners[i].push(event);
      telemetry.countReceived(event);
    },
    endChunk(lsn) {
      for (const runner of runners) runner.pushCommit(lsn, lsn);
    },
    get full() {
      return full();
    },
    room: () => (full() ? new Promise<void>((resolve) => roomWaiters.push(resolve)) : Promise.resolve()),
    drained: async () => {
      await Promise.all(runners.map((r) => r.drained()));
    },
    get stopped() {
      return stopping();
    },
  };
  const wake = (): void => {
    const waiters = roomWaiters;
    roomWaiters = [];
    waiters.forEach((resolve) => resolve());
  };
  return { feed, wake };
}
