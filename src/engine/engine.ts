// The coordinator's side of the engine: owns the shared memory and the threads that
// compute on it, and runs commands (train steps, evaluate a split) on them. With one
// thread the commands run right here, in slices that yield to the event loop so Ctrl-C
// and callbacks still get through; with more, a dedicated Piscina pool runs one
// long-lived task per thread and the coordinator only waits with Atomics.waitAsync —
// it never blocks its event loop.

import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { TrainingError } from '../errors.ts';
import { createKernel, type RunKernel } from '../kernels/select.ts';
import { refreshAllTransposed } from '../nn/mlp.ts';
import { AbortedError, raiseAbort, soloBarrier } from './barrier.ts';
import {
  CMD_EVAL, CMD_EXIT, CMD_TRAIN, HALT_NONE, HALT_STOP, cEpochCorrect, cEpochLossSum, cEpochRows, cPlateauScale,
  kAbort, kArgEpoch, kArgSplit, kArgStepFrom, kArgStepTo, kCommandSeq, kCommandType, kDone, kFailedRank, kFailedStep,
  kHalt, kHaltStep, kReady, kStep, kStopRequest,
} from './control.ts';
import { createSharedMemory, kernelScratchFor, type PlanInput, type SharedViews } from './plan.ts';
import { ThreadTrial, TRIAL_MS, type ThreadPlan } from './threads.ts';
import { runEval, runTrainSteps, syncFirstLayer, threadContext, type RunSettings, type ThreadContext } from './program.ts';


export interface EngineOptions {
  readonly plan: PlanInput;
  readonly settings: RunSettings;
  readonly threads: number;
  readonly kernel: RunKernel;
  /** Test hook: sees the pool right after it is made (to check no thread outlives a run). */
  readonly onPool?: ((pool: Piscina) => void) | undefined;
  /**
   * Time the first steps on the pool against this thread alone and keep the faster
   * (threads "auto"; see ThreadTrial): the pool then starts in the background while the
   * first steps run here, so a run that ends up on one thread does not wait for it.
   */
  readonly trial?: { readonly plan: ThreadPlan; readonly trialMs?: number } | undefined;
}

export interface TrainResult {
  /** Steps completed by this command. */
  readonly steps: number;
  /** HALT_NONE, HALT_STOP or HALT_DIVERGED. */
  readonly halt: number;
  readonly haltStep: number;
}

interface Runner {
  command(type: number): Promise<void>;
  close(): Promise<void>;
}

export class Engine {
  readonly views: SharedViews;
  readonly memory: WebAssembly.Memory;
  private runner: Runner;
  private pool: Runner | undefined;
  private solo: InProcessRunner | undefined;
  private trial: ThreadTrial | undefined;
  private chosen: ThreadPlan | undefined;
  /** A pool starting in the background (trial), and why it failed to, if it did. */
  private poolStarting: Promise<void> | undefined;
  private poolError: unknown;
  /** Steps per command while the first steps run here and the pool starts (about 25 ms of them). */
  private waitChunk = 1;

  private constructor(memory: WebAssembly.Memory, views: SharedViews, private readonly options: EngineOptions, runner: Runner) {
    this.memory = memory;
    this.views = views;
    this.runner = runner;
    if (runner instanceof InProcessRunner) this.solo = runner;
    else this.pool = runner;
  }

  /** Allocate the shared memory; the caller fills data and parameters, then calls train(). */
  static async create(options: EngineOptions): Promise<Engine> {
    const { memory, views } = createSharedMemory(options.plan);
    views.cells[cPlateauScale] = 1;
    if (options.threads > 1 && options.trial) {
      const engine = new Engine(memory, views, options, soloRunner(memory, views, options));
      engine.trial = new ThreadTrial(options.trial.plan, options.trial.trialMs ?? TRIAL_MS);
      engine.chosen = options.trial.plan;
      engine.poolStarting = PoolRunner.start(memory, views, options).then(
        (pool) => void (engine.pool = pool),
        (error: unknown) => void (engine.poolError = error),
      );
      return engine;
    }
    const runner = options.threads === 1 ? soloRunner(memory, views, options) : await PoolRunner.start(memory, views, options);
    return new Engine(memory, views, options, runner);
  }

  /** Threads the commands run on: the pool's, or 1 once the run has gone in-process (useOneThread). */
  get threads(): number {
    return this.runner === this.pool ? this.options.threads : 1;
  }

  /** Settles once a pool started in the background (trial) is up, or has failed to start. */
  async poolStarted(): Promise<void> {
    await this.poolStarting;
  }

  /** The thread count and why: the trial's outcome once it has finished, else the plan it started from. */
  get threadPlan(): ThreadPlan | undefined {
    if (this.trial && this.chosen) {
      const threads = this.threads;
      return { threads, reason: `${this.chosen.reason}; the run ended before the timing trial did (its last steps ran on ${threads})` };
    }
    return this.chosen;
  }

  /** Run every later command on this thread alone and shut the pool down (its threads did not pay). */
  private async useOneThread(): Promise<void> {
    if (!this.pool || this.runner !== this.pool) return;
    this.runner = (this.solo ??= soloRunner(this.memory, this.views, this.options));
    const pool = this.pool;
    this.pool = undefined;
    await pool.close();
  }

  /** Call after writing parameters into views.ws.params: rebuilds the transposed weights. */
  syncParams(): void {
    refreshAllTransposed(this.views.ws, createKernel('js'));
  }

  resetEpochTotals(): void {
    const c = this.views.cells;
    c[cEpochLossSum] = 0;
    c[cEpochCorrect] = 0;
    c[cEpochRows] = 0;
  }

  /** Run steps [from, to) of `epoch` with the current permutation. */
  async train(epoch: number, from: number, to: number): Promise<TrainResult> {
    let step = from;
    // A thread trial runs the first steps here while the pool starts, then in chunks that
    // alternate between the pool and this thread alone; they are the run's own steps, so
    // nothing is repeated.
    while (this.trial && step < to) {
      if (this.poolError !== undefined) throw this.poolError;
      if (!this.pool) {
        this.runner = this.solo!;
        const t0 = performance.now();
        const r = await this.command(epoch, step, Math.min(to, step + this.waitChunk));
        step += r.steps;
        if (r.halt !== HALT_NONE) return { ...r, steps: step - from };
        this.waitChunk = Math.max(1, Math.min(1000, Math.round((25 * r.steps) / Math.max(0.01, performance.now() - t0))));
        // A turn of the event loop, so that the pool's start (Atomics.waitAsync) can complete.
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      const trial = this.trial;
      this.runner = trial.alone ? this.solo! : this.pool;
      const t0 = performance.now();
      const r = await this.command(epoch, step, Math.min(to, step + trial.chunkSteps));
      trial.record(r.steps, performance.now() - t0);
      step += r.steps;
      if (trial.finished) {
        this.trial = undefined;
        this.chosen = trial.decide();
        this.runner = this.pool!;
        if (this.chosen.threads === 1) await this.useOneThread();
      }
      if (r.halt !== HALT_NONE) return { ...r, steps: step - from };
    }
    if (this.trial) this.runner = this.pool ?? this.solo!;
    if (step === to) return { steps: to - from, halt: HALT_NONE, haltStep: 0 };
    const r = await this.command(epoch, step, to);
    return { ...r, steps: step - from + r.steps };
  }

  private async command(epoch: number, from: number, to: number): Promise<TrainResult> {
    const ctl = this.views.ctl;
    Atomics.store(ctl, kHalt, HALT_NONE);
    Atomics.store(ctl, kStep, from);
    Atomics.store(ctl, kArgEpoch, epoch);
    Atomics.store(ctl, kArgStepFrom, from);
    Atomics.store(ctl, kArgStepTo, to);
    await this.runner.command(CMD_TRAIN);
    return { steps: Atomics.load(ctl, kStep) - from, halt: Atomics.load(ctl, kHalt), haltStep: Atomics.load(ctl, kHaltStep) };
  }

  /** Forward every row of split 0/1/2; the output pre-activations land in views.evalOut. */
  async evaluate(split: number): Promise<void> {
    Atomics.store(this.views.ctl, kArgSplit, split);
    await this.runner.command(CMD_EVAL);
  }

  /** Ask the threads to stop at the next step boundary (SIGINT, cancel). Safe from any callback. */
  requestStop(): void {
    Atomics.store(this.views.ctl, kStopRequest, 1);
  }

  get stopRequested(): boolean {
    return Atomics.load(this.views.ctl, kStopRequest) !== 0;
  }

  /** Steps finished in the current epoch (for progress display while a command runs). */
  get progressStep(): number {
    return Atomics.load(this.views.ctl, kStep);
  }

  async close(): Promise<void> {
    await this.poolStarting;
    await this.pool?.close();
  }
}

function soloRunner(memory: WebAssembly.Memory, views: SharedViews, options: EngineOptions): InProcessRunner {
  return new InProcessRunner(threadContext(views, createKernel(options.kernel, memory, kernelScratchFor(views, 0)), 0, 1, soloBarrier, options.settings));
}

class InProcessRunner implements Runner {
  constructor(private readonly ctx: ThreadContext) {}

  async command(type: number): Promise<void> {
    const ctl = this.ctx.views.ctl;
    if (type === CMD_EVAL) return runEval(this.ctx, Atomics.load(ctl, kArgSplit));
    if (type !== CMD_TRAIN) return;
    const epoch = Atomics.load(ctl, kArgEpoch);
    const to = Atomics.load(ctl, kArgStepTo);
    let step = Atomics.load(ctl, kArgStepFrom);
    // Slices of ~25 ms: long enough to cost nothing, short enough for Ctrl-C to land
    // at the next step boundary.
    while (step < to && Atomics.load(ctl, kHalt) === HALT_NONE) {
      const sliceEnd = Date.now() + 25;
      while (step < to && Atomics.load(ctl, kHalt) === HALT_NONE && Date.now() < sliceEnd) {
        step += runTrainSteps(this.ctx, epoch, step, step + 1);
        if (Atomics.load(ctl, kStopRequest) !== 0 && step < to && Atomics.load(ctl, kHalt) === HALT_NONE) {
          Atomics.store(ctl, kHalt, HALT_STOP);
          Atomics.store(ctl, kHaltStep, epoch * this.ctx.settings.stepsPerEpoch + step);
        }
      }
      if (step < to) await new Promise((resolve) => setImmediate(resolve));
    }
    syncFirstLayer(this.ctx);
  }

  async close(): Promise<void> {}
}

/**
 * Wait until every task settles, `ms` at most. The timer is cleared once the tasks win the
 * race: left pending, it would hold the process open for the rest of `ms` after a run ends.
 */
async function settleWithin(tasks: readonly Promise<unknown>[], ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([Promise.allSettled(tasks), new Promise((resolve) => { timer = setTimeout(resolve, ms); })]);
  clearTimeout(timer);
}

/** How a worker can load our TypeScript: the built .js needs nothing; .ts needs tsx's hooks. */
function workerFile(): { filename: string; execArgv: string[] } {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const filename = new URL(`../../workers/train_worker${ext}`, import.meta.url).href;
  if (ext === '.js') return { filename, execArgv: [...process.execArgv] };
  const inherited = process.execArgv;
  if (inherited.some((a) => a.includes('tsx'))) return { filename, execArgv: [...inherited] };
  const tsxDir = path.dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  return { filename, execArgv: [...inherited, '--import', pathToFileURL(path.join(tsxDir, 'dist/loader.mjs')).href] };
}

class PoolRunner implements Runner {
  private failure: Error | undefined;
  private failed!: Promise<never>;
  private closed = false;

  private constructor(
    private readonly pool: Piscina,
    private readonly views: SharedViews,
    private readonly threads: number,
    private readonly tasks: Promise<unknown>[],
  ) {}

  static async start(memory: WebAssembly.Memory, views: SharedViews, options: EngineOptions): Promise<PoolRunner> {
    const { filename, execArgv } = workerFile();
    const threads = options.threads;
    const pool = new Piscina({
      filename, execArgv, minThreads: threads, maxThreads: threads, concurrentTasksPerWorker: 1, idleTimeout: Infinity,
    });
    options.onPool?.(pool);
    const task = { memory, plan: options.plan, settings: options.settings, kernel: options.kernel, threads };
    // All N tasks are submitted together: a barrier peer still in the queue would deadlock.
    const tasks = Array.from({ length: threads }, () => pool.run(task));
    const runner = new PoolRunner(pool, views, threads, tasks);
    runner.failed = new Promise<never>((_, reject) => {
      for (const t of tasks) {
        t.catch((error: unknown) => {
          const err = error instanceof Error ? error : new Error(String(error));
          if (!runner.failure || (isAbortEcho(runner.failure) && !isAbortEcho(err))) runner.failure = err;
          raiseAbort(views.ctl);
          reject(err);
        });
      }
    });
    runner.failed.catch(() => {});
    await runner.waitFor(kReady, threads);
    return runner;
  }

  /** Wait, without blocking the event loop, until ctl[index] reaches `target` or a thread fails. */
  private async waitFor(index: number, target: number): Promise<void> {
    const ctl = this.views.ctl;
    for (;;) {
      const value = Atomics.load(ctl, index);
      if (value >= target) return;
      if (this.failure || Atomics.load(ctl, kAbort) !== 0) {
        // Every thread leaves within one wait timeout of the abort; wait for all of them so
        // the root cause is reported, not another thread's "aborted" echo of it.
        await settleWithin(this.tasks, 2000);
        throw this.describeFailure();
      }
      const waiter = Atomics.waitAsync(ctl, index, value, 200);
      if (waiter.async) await Promise.race([waiter.value, this.failed]).catch(() => {});
    }
  }

  async command(type: number): Promise<void> {
    const ctl = this.views.ctl;
    Atomics.store(ctl, kDone, 0);
    Atomics.store(ctl, kCommandType, type);
    Atomics.add(ctl, kCommandSeq, 1);
    Atomics.notify(ctl, kCommandSeq);
    if (type === CMD_EXIT) return;
    await this.waitFor(kDone, this.threads);
  }

  private describeFailure(): TrainingError {
    const ctl = this.views.ctl;
    const rank = Atomics.load(ctl, kFailedRank) - 1;
    const step = Atomics.load(ctl, kFailedStep);
    const cause = this.failure && !isAbortEcho(this.failure) ? this.failure : undefined;
    const where = rank >= 0 ? `worker thread ${rank} failed at step ${step}` : 'a worker thread failed';
    const error = new TrainingError(
      `${where}: ${cause?.message ?? 'the thread stopped without an error message'}`,
      'the run was stopped and every thread was shut down; nothing was written after the last checkpoint',
      rank >= 0 ? step : undefined,
    );
    if (cause) error.cause = cause;
    return error;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.failure && Atomics.load(this.views.ctl, kAbort) === 0) {
      await this.command(CMD_EXIT);
      await settleWithin(this.tasks, 2000);
    } else {
      raiseAbort(this.views.ctl);
    }
    await this.pool.destroy();
  }
}

export { AbortedError };

/** An error that only says another thread failed (its name may not survive the thread boundary). */
function isAbortEcho(error: Error): boolean {
  return error.name === 'AbortedError' || error.message === new AbortedError().message;
}

/** Cores to use by default. */
export function defaultThreads(): number {
  return os.availableParallelism();
}
