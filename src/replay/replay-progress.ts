/**
 * Replay progress for people, measured in WAL: how far the stream has come
 * between the start and `--to`, the events written so far, and an ETA from
 * the rate at which WAL went by. On a terminal one live bar below the log
 * lines; otherwise a log line every `intervalMs`.
 */
import type { Logger } from 'pino';
import { humanSize } from '../config/sizes.ts';
import { formatLsn, type Lsn } from '../lsn.ts';
import type { Terminal } from '../runtime/terminal.ts';

export interface ReplayProgressReading {
  start: Lsn;
  to: Lsn;
  position: Lsn;
  events: number;
  startedAt: number;
}

export interface ReplayProgress {
  stop(): void;
}

/** Fraction of the window done, WAL bytes per second, seconds left (null until known). */
export function progressOf(r: ReplayProgressReading, now: number): { fraction: number; bytesPerSecond: number; etaSeconds: number | null } {
  const total = r.to > r.start ? Number(r.to - r.start) : 0;
  const done = r.position > r.start ? Number(r.position - r.start) : 0;
  const seconds = Math.max((now - r.startedAt) / 1000, 1e-3);
  const bytesPerSecond = done / seconds;
  const fraction = total === 0 ? 1 : Math.min(1, done / total);
  const etaSeconds = bytesPerSecond > 0 ? Math.max(0, (total - done) / bytesPerSecond) : null;
  return { fraction, bytesPerSecond, etaSeconds };
}

/** `replay [#######.............]  35%  0/3000000 of 0/5000000  12000 events  1.2 MiB/s WAL  ETA 4s` */
export function formatProgress(r: ReplayProgressReading, now: number, width = 20): string {
  const { fraction, bytesPerSecond, etaSeconds } = progressOf(r, now);
  const filled = Math.round(fraction * width);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  const eta = etaSeconds === null ? 'ETA ?' : `ETA ${Math.ceil(etaSeconds)}s`;
  return `replay ${bar} ${String(Math.floor(fraction * 100)).padStart(3)}%  ${formatLsn(r.position)} of ${formatLsn(r.to)}  ${r.events} events  ${humanSize(Math.round(bytesPerSecond))}/s WAL  ${eta}`;
}

export function startReplayProgress(options: { read: () => ReplayProgressReading | null; terminal: Terminal | null; logger: Logger; intervalMs: number }): ReplayProgress {
  const { terminal, logger } = options;
  const tick = (): void => {
    const r = options.read();
    if (r === null) return;
    if (terminal) terminal.setStatus([formatProgress(r, Date.now())]);
    else {
      const { fraction, etaSeconds } = progressOf(r, Date.now());
      logger.info(
        { position: formatLsn(r.position), to: formatLsn(r.to), percent: Math.floor(fraction * 100), events: r.events, etaSeconds: etaSeconds === null ? null : Math.ceil(etaSeconds) },
        'replay progress',
      );
    }
  };
  const timer = setInterval(tick, terminal ? 250 : options.intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      if (terminal) {
        const r = options.read();
        terminal.setStatus([]);
        if (r) terminal.write(`${formatProgress(r, Date.now())}\n`);
      }
    },
  };
}
