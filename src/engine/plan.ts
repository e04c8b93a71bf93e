// The memory plan: everything the threads share, carved out of one
// WebAssembly.Memory({ shared: true }) allocated once at its final size (never grown:
// views made before a grow would keep their old length). The same Arena sequence is
// replayed in every thread over the same buffer, so each thread finds every tensor at
// the same byte offset, and wasm kernels address the bytes JS views see.

import { checkMemory } from '../limits.ts';
import { Arena } from '../nn/arena.ts';
import { allocateWorkspace, type TargetKind, type Workspace } from '../nn/mlp.ts';
import type { TrainingRule } from '../nn/loss.ts';
import { paramLayout, type ParamLayout } from '../model/layout.ts';
import { kernelScratchBytes } from '../kernels/wasm.ts';
import { fanIn, type ModelSpec } from '../model/spec.ts';
import { CELLS, CONTROL_INTS } from './control.ts';
import { unitBlockCount } from './partition.ts';

export interface PlanInput {
  readonly spec: ModelSpec;
  readonly rule: TrainingRule;
  readonly targetKind: TargetKind;
  /** Rows the workspace holds: the largest batch, and the block size for evaluation. */
  readonly maxRows: number;
  readonly optimizerBuffers: number;
  /** Row counts of the train, validation and test splits (0 when absent). */
  readonly splitRows: readonly [number, number, number];
  /** Ranks, each with its own kernel scratch (kernelScratchFor); 1 for a run in-process. */
  readonly threads: number;
}

export interface SplitViews {
  readonly n: number;
  readonly x: Float32Array;
  /** Class ids (n) or targets (n × outputs). */
  readonly y: Int32Array | Float32Array;
}

export interface SharedViews {
  readonly ctl: Int32Array;
  readonly cells: Float64Array;
  readonly layout: ParamLayout;
  readonly ws: Workspace<Float32Array>;
  /** The two input buffers ws.input alternates between: step g's rows are in inputs[g & 1]. */
  readonly inputs: readonly [Float32Array, Float32Array];
  readonly optState: Float32Array[];
  /** One Σg² cell per unit block (fixed blocks: the norm's summation order never changes). */
  readonly normCells: Float64Array;
  readonly splits: readonly [SplitViews, SplitViews, SplitViews];
  /** This epoch's order of the training rows. */
  readonly perm: Int32Array;
  /** Output pre-activations of an evaluated split, (n, outputs). */
  readonly evalOut: Float32Array;
  /** Each rank's kernel scratch (kernelScratchFor); none when no layer is one dW packs. */
  readonly kernelScratch: readonly Float32Array[];
}

const PAGE = 65536;

/** The plan laid out over `buffer`; without one, only measured (empty views, nothing allocated: a plan of any size is sized safely). */
export function layoutShared(buffer: ArrayBufferLike | undefined, input: PlanInput): { views: SharedViews; bytes: number } {
  const arena = buffer ? new Arena(buffer, 0) : Arena.measuring();
  const ctl = arena.i32(CONTROL_INTS);
  const cells = arena.f64(CELLS);
  const layout = paramLayout(input.spec);
  const ws = allocateWorkspace(arena, input.spec, layout, input.maxRows, input.targetKind, input.rule) as Workspace<Float32Array>;
  const inputs = [ws.input, arena.f32(input.maxRows * input.spec.inputs)] as const;
  const optState: Float32Array[] = [];
  for (let i = 0; i < input.optimizerBuffers; i++) optState.push(arena.f32(layout.size));
  const normCells = arena.f64(unitBlockCount(layout));
  const features = input.spec.inputs;
  const outputs = input.spec.layers[input.spec.layers.length - 1]!.units;
  const split = (n: number): SplitViews => ({
    n,
    x: arena.f32(n * features),
    y: input.targetKind === 'class' ? arena.i32(n) : arena.f32(n * outputs),
  });
  const splits = [split(input.splitRows[0]), split(input.splitRows[1]), split(input.splitRows[2])] as const;
  const perm = arena.i32(input.splitRows[0]);
  const evalOut = arena.f32(Math.max(...input.splitRows) * outputs);
  const floats = scratchFloats(input);
  const kernelScratch = floats === 0 ? [] : Array.from({ length: Math.max(1, input.threads) }, () => arena.f32(floats));
  return { views: { ctl, cells, layout, ws, inputs, optState, normCells, splits, perm, evalOut, kernelScratch }, bytes: arena.used };
}

/** Floats of one rank's kernel scratch: what dW packs at a full batch (wasm.ts kernelScratchBytes). */
function scratchFloats(input: PlanInput): number {
  return kernelScratchBytes(input.maxRows, input.spec.layers.map((l, i) => ({ inputs: fanIn(input.spec, i), units: l.units }))) / 4;
}

/**
 * Rank `rank`'s kernel scratch (undefined when the plan has none). The run in-process is rank 0
 * and shares rank 0's slot with the pool: the engine runs one runner's commands at a time.
 */
export function kernelScratchFor(views: SharedViews, rank: number): Float32Array | undefined {
  return views.kernelScratch[rank];
}

/** The size of the shared memory for `input`: the bytes the plan lays out, and the whole 64 KiB pages allocated for them. */
export function sharedMemorySize(input: PlanInput): { bytes: number; pages: number; allocatedBytes: number } {
  const { bytes } = layoutShared(undefined, input);
  const pages = Math.max(1, Math.ceil(bytes / PAGE));
  return { bytes, pages, allocatedBytes: pages * PAGE };
}

export function createSharedMemory(input: PlanInput): { memory: WebAssembly.Memory; views: SharedViews } {
  const { pages, allocatedBytes } = sharedMemorySize(input);
  // planRun refuses such a plan before the engine starts; this guards callers that skip it.
  checkMemory('the shared memory', allocatedBytes, 'use a smaller dataset, fewer or narrower layers, or a smaller batch size');
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  return { memory, views: layoutShared(memory.buffer, input).views };
}
