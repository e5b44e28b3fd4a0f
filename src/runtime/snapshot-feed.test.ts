import { describe, expect, it } from 'vitest';
import { createTelemetry } from '../observe/telemetry.ts';
import { createRouter } from '../route/router.ts';
import { createPauseControl } from './pause-control.ts';
import { createSnapshotFeed } from './snapshot-feed.ts';

function setup() {
  let stopping = false;
  const pause = createPauseControl(() => null);
  const telemetry = createTelemetry({ sinks: [], inFlightCeiling: 1000 });
  const { feed, wake } = createSnapshotFeed({ router: createRouter([]), runners: [], telemetry, pause, stopping: () => stopping });
  return { feed, wake, pause, stop: () => void (stopping = true) };
}

const settled = async (p: Promise<void>): Promise<boolean> => {
  let done = false;
  void p.then(() => (done = true));
  await new Promise<void>((resolve) => setImmediate(resolve));
  return done;
};

describe('snapshot feed', () => {
  it('has room at once below the in-flight ceiling', async () => {
    const { feed } = setup();
    expect(feed.full).toBe(false);
    expect(await settled(feed.room())).toBe(true);
  });

  it('past the ceiling, waits for room until the budget wakes it', async () => {
    const { feed, wake, pause } = setup();
    pause.set('budget', true);
    expect(feed.full).toBe(true);
    const room = feed.room();
    expect(await settled(room)).toBe(false);
    pause.set('budget', false);
    wake();
    expect(await settled(room)).toBe(true);
  });

  it('once the pipeline stops, is never full and says it stopped', async () => {
    const { feed, pause, stop } = setup();
    pause.set('budget', true);
    stop();
    expect(feed.full).toBe(false);
    expect(feed.stopped).toBe(true);
    expect(await settled(feed.room())).toBe(true);
  });
});
