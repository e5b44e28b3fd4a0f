import { describe, expect, it } from 'vitest';
import { createPauseControl, type Pausable } from './pause-control.ts';

// The socket's side of pausing: what the stream was last told.
function socket() {
  const calls: string[] = [];
  const stream: Pausable = { pause: () => calls.push('pause'), resume: () => calls.push('resume') };
  return { stream, calls, last: () => calls.at(-1) };
}

describe('pause control', () => {
  it('keeps the socket paused while any reason holds, and resumes it when the last one goes', () => {
    const s = socket();
    let resumed = 0;
    const pause = createPauseControl(() => s.stream, () => resumed++);
    pause.set('budget', true);
    pause.set('catalog', true);
    pause.set('budget', false);
    expect(s.last()).toBe('pause');
    expect(pause.reasons()).toEqual(['catalog']);
    expect(resumed).toBe(0);
    pause.set('catalog', false);
    expect(s.last()).toBe('resume');
    expect(pause.reasons()).toEqual([]);
    expect(resumed).toBe(1);
    pause.set('budget', false); // not paused: nothing resumes
    expect(resumed).toBe(1);
  });

  it('keeps the reasons between sessions and applies them to the next stream', () => {
    let current: Pausable | null = null;
    const pause = createPauseControl(() => current);
    pause.set('stopping', true); // no stream: nothing to tell, but the reason stays
    const s = socket();
    current = s.stream;
    pause.apply();
    expect(s.calls).toEqual(['pause']);
    expect(pause.has('stopping')).toBe(true);
    expect(pause.has('budget')).toBe(false);
  });
});
