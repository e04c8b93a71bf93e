// Stop signals for the commands that run for a while (train, sweep, bench): SIGINT (Ctrl-C),
// SIGTERM (kill, a scheduler's stop) and SIGHUP (the terminal closed) all mean the same — stop
// at the next step boundary and write what there is — and a second one of any of them quits at
// once. The exit code is the shell's for that signal: 128 + its number (130, 143, 129).

import os from 'node:os';
import { err } from './format.ts';

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP. */
export function signalExitCode(signal: StopSignal): number {
  return 128 + os.constants.signals[signal];
}

export interface StopSignals {
  /** The first stop signal received, if any. */
  readonly received: StopSignal | undefined;
  /** The exit code for a run that stopped because of it (undefined when none came). */
  readonly exitCode: number | undefined;
  /** Stop listening (in a finally). */
  dispose(): void;
}

/**
 * Listen for the stop signals: the first calls `onStop` after printing `stopping` (what the
 * command will do); a second prints `quitting` and exits with its signal's code at once.
 */
export function onStopSignals(onStop: () => void, text: { stopping: string; quitting: string }, beforeMessage?: () => void): StopSignals {
  let received: StopSignal | undefined;
  const handler = (signal: StopSignal) => {
    if (received !== undefined) {
      err(`\n${signal === 'SIGINT' ? 'interrupted' : signal} again: ${text.quitting}`);
      process.exit(signalExitCode(signal));
    }
    received = signal;
    beforeMessage?.();
    const again = signal === 'SIGINT' ? 'press Ctrl-C again' : `send ${signal} again`;
    err(`\n${signal === 'SIGINT' ? 'interrupt' : `${signal} received`}: ${text.stopping} (${again} to quit at once)`);
    onStop();
  };
  for (const s of STOP_SIGNALS) process.on(s, handler);
  return {
    get received() {
      return received;
    },
    get exitCode() {
      return received === undefined ? undefined : signalExitCode(received);
    },
    dispose() {
      for (const s of STOP_SIGNALS) process.off(s, handler);
    },
  };
}
