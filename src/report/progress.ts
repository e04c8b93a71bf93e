// Console progress while training. On an interactive terminal one status line is redrawn
// in place (epoch, step, throughput, ETA, loss), at most ~10 times a second so that
// drawing never costs measurable training time. When output goes to a file, a pipe or a
// CI log, per-step redraws would be noise, so only the epoch lines are printed.
//
// `epoch` in `StepInfo` is 1-based, as in the log records; `step` counts the updates
// done in that epoch (1..stepsPerEpoch), as the trainer's onProgress hook reports them.

export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
  /** Terminal width; the live line is cut to fit so it never wraps (a wrapped line cannot be redrawn with \r). */
  columns?: number;
}

export interface ProgressOptions {
  totalEpochs: number;
  stepsPerEpoch: number;
  /** Force plain output even on a terminal. */
  plain?: boolean;
  /** Milliseconds clock; tests pass a fake one. Default performance.now. */
  now?: () => number;
}

export interface StepInfo {
  /** The epoch in progress, 1-based. */
  epoch: number;
  /** Updates done in this epoch, 1..stepsPerEpoch. */
  step: number;
  loss: number;
  samplesPerSec: number;
}

export interface Progress {
  step(info: StepInfo): void;
  /** Print a finished epoch's summary line (a newline is added). */
  epochEnd(line: string): void;
  /** Clear the live line; call once when training ends or fails. */
  done(): void;
}

const REDRAW_MS = 100;
const CLEAR_LINE = '\r\x1b[2K';

/** True when the CI variable is set to something other than "", "0" or "false". */
function inCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

export function createProgress(stream: NodeJS.WriteStream | ProgressStream, opts: ProgressOptions): Progress {
  const live = opts.plain !== true && stream.isTTY === true && !inCi();
  const now = opts.now ?? (() => performance.now());
  const totalSteps = opts.totalEpochs * opts.stepsPerEpoch;
  let shown = false;
  let lastDraw = -Infinity;
  // The rate for the ETA is measured from the first step this process saw, so a resumed
  // run does not count the steps done before it started.
  let first: { step: number; time: number } | undefined;

  const clear = () => {
    if (shown) stream.write(CLEAR_LINE);
    shown = false;
  };

  return {
    step(info: StepInfo): void {
      if (!live) return;
      const t = now();
      const done = (info.epoch - 1) * opts.stepsPerEpoch + info.step;
      if (first === undefined) first = { step: done, time: t };
      const last = done >= totalSteps;
      if (t - lastDraw < REDRAW_MS && !last) return;
      lastDraw = t;
      const stepsPerMs = (done - first.step) / (t - first.time);
      const eta = stepsPerMs > 0 && Number.isFinite(stepsPerMs) ? formatDuration((totalSteps - done) / stepsPerMs / 1000) : '--';
      let text =
        `epoch ${info.epoch}/${opts.totalEpochs}  step ${info.step}/${opts.stepsPerEpoch}  ` +
        `${formatRate(info.samplesPerSec)} samples/s  ETA ${eta}  loss ${formatLoss(info.loss)}`;
      const width = stream.columns;
      if (width !== undefined && width > 1 && text.length > width - 1) text = text.slice(0, width - 1);
      stream.write(CLEAR_LINE + text);
      shown = true;
    },
    epochEnd(line: string): void {
      clear();
      stream.write(`${line}\n`);
      // Redraw at the next step so the live line reappears under the epoch line at once.
      lastDraw = -Infinity;
    },
    done(): void {
      clear();
    },
  };
}

/** 12345 → "12.3k"; 950 → "950". */
export function formatRate(perSec: number): string {
  if (!Number.isFinite(perSec)) return String(perSec);
  if (perSec >= 1e6) return `${(perSec / 1e6).toFixed(perSec >= 1e7 ? 0 : 1)}M`;
  if (perSec >= 1e3) return `${(perSec / 1e3).toFixed(perSec >= 1e4 ? 1 : 2)}k`;
  return perSec.toFixed(0);
}

/** 4 significant digits, exponent form for very small or large values. */
export function formatLoss(loss: number): string {
  if (!Number.isFinite(loss)) return String(loss);
  const a = Math.abs(loss);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? loss.toExponential(3) : loss.toPrecision(4);
}

/** Seconds → "42s", "3m07s", "2h05m". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
