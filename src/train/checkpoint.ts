// Checkpoints: everything needed to continue a run bit for bit — weights, optimizer
// state, the shuffle RNG's state and this epoch's data order, the position (epoch and
// step), the learning-rate plateau, early-stopping bookkeeping, the loss totals of a
// half-done epoch, and the history so far. Written atomically (temp file, fsync,
// rename) inside the checksummed envelope, so a crash never leaves a broken checkpoint.
// A fingerprint of the settings and of the training data makes a resume with different
// data or settings an error instead of a silent divergence.

import { createHash } from 'node:crypto';
import type { Dataset } from '../data/dataset.ts';
import type { Scaler } from '../data/scaling.ts';
import { ConfigError, ModelFileError, describe } from '../errors.ts';
import { readEnvelopeFile, writeEnvelopeFile } from '../io/envelope.ts';
import type { ModelSpec } from '../model/spec.ts';
import type { EpochRecord } from '../report/log.ts';
import type { PlateauState } from '../optim/schedules.ts';

/**
 * 2: Adam and AdamW compute their bias corrections as one step size and one reciprocal
 * square root (optim/optimizers.ts), which changes their bits, so a version-1 checkpoint of
 * an Adam or AdamW run would not resume bit for bit and is refused; version-1 checkpoints of
 * the other optimizers resume exactly and are read as before.
 */
export const CHECKPOINT_FORMAT_VERSION = 2;

export interface CheckpointState {
  readonly spec: ModelSpec;
  /** Settings that must match on resume (batch size, optimizer, schedule, seed, rule …), as canonical JSON. */
  readonly settings: string;
  /** SHA-256 of the (scaled) training inputs and targets. */
  readonly dataHash: string;
  readonly params: Float32Array;
  readonly optState: Float32Array[];
  /** Completed epochs; with step > 0, the epoch in progress. */
  readonly epoch: number;
  /** Steps done in epoch `epoch` (0 at an epoch boundary). */
  readonly step: number;
  /** The data order of epoch `epoch` (meaningful when step > 0). */
  readonly perm: Int32Array;
  /** The shuffle RNG after drawing epoch `epoch`'s order (or before drawing it, when step = 0). */
  readonly rngState: Uint32Array;
  /** Loss sum, correct count and rows of the epoch in progress. */
  readonly totals: Float64Array;
  readonly plateau: PlateauState;
  readonly best: { readonly loss: number; readonly epoch: number; readonly params: Float32Array | null };
  readonly trainBest: { readonly loss: number; readonly epoch: number };
  readonly history: EpochRecord[];
  readonly task: 'classification' | 'regression';
  readonly classNames: readonly string[] | null;
  readonly scaler: Scaler | null;
}

export function dataFingerprint(ds: Dataset): string {
  const h = createHash('sha256');
  h.update(`${ds.task}:${ds.n}:${ds.features}`);
  h.update(new Uint8Array(ds.x.buffer, ds.x.byteOffset, ds.x.byteLength));
  h.update(new Uint8Array(ds.y.buffer, ds.y.byteOffset, ds.y.byteLength));
  return h.digest('hex');
}

export function writeCheckpoint(path: string, state: CheckpointState): void {
  writeEnvelopeFile(path, 'checkpoint', CHECKPOINT_FORMAT_VERSION, state);
}

export function readCheckpoint(path: string): CheckpointState {
  const { version, payload } = readEnvelopeFile(path, 'checkpoint');
  if (version > CHECKPOINT_FORMAT_VERSION) {
    throw new ModelFileError(`${path}: checkpoint format version ${version} is newer than this threadtrain reads (${CHECKPOINT_FORMAT_VERSION})`, 'upgrade threadtrain');
  }
  const c = payload as Partial<CheckpointState> | null;
  const need = (field: keyof CheckpointState, ok: boolean, expected: string) => {
    if (!ok) throw new ModelFileError(`${path}: checkpoint field "${field}" should be ${expected}, found ${describe(c?.[field])}`, 'the file was not written by this version of threadtrain');
  };
  need('params', c?.params instanceof Float32Array, 'a Float32Array');
  need('perm', c?.perm instanceof Int32Array, 'an Int32Array');
  need('rngState', c?.rngState instanceof Uint32Array && c.rngState.length === 4, 'four uint32 words');
  need('totals', c?.totals instanceof Float64Array, 'a Float64Array');
  need('optState', Array.isArray(c?.optState) && c!.optState!.every((s) => s instanceof Float32Array), 'a list of Float32Arrays');
  need('epoch', Number.isInteger(c?.epoch), 'an integer');
  need('step', Number.isInteger(c?.step), 'an integer');
  need('settings', typeof c?.settings === 'string', 'a string');
  need('history', Array.isArray(c?.history), 'a list');
  if (version < 2) {
    const optimizer = (JSON.parse(c!.settings!) as { optimizer?: { name?: unknown } }).optimizer?.name;
    if (optimizer === 'adam' || optimizer === 'adamw') {
      throw new ModelFileError(
        `${path}: checkpoint format version ${version} of an ${optimizer} run: this threadtrain computes ${optimizer}'s update with other roundings (format ${CHECKPOINT_FORMAT_VERSION}), so the run would not continue bit for bit`,
        'resume it with the threadtrain version that wrote it, or start the run again',
      );
    }
  }
  return c as CheckpointState;
}

/** What differs between the checkpoint's model and the config's, each as "where: checkpoint → config". */
function specDifferences(ck: ModelSpec, run: ModelSpec): string[] {
  const diffs: string[] = [];
  const change = (where: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) diffs.push(`${where} ${describe(a)} → ${describe(b)}`);
  };
  change('inputs', ck.inputs, run.inputs);
  change('layers', ck.layers.length, run.layers.length);
  for (let l = 0; l < Math.min(ck.layers.length, run.layers.length); l++) {
    const a = ck.layers[l]!;
    const b = run.layers[l]!;
    for (const key of ['units', 'activation', 'alpha', 'init'] as const) change(`layer ${l} ${key}`, a[key], b[key]);
  }
  change('loss', ck.loss, run.loss);
  // Key order or a field the spec gained: the JSON differs, the parts above do not.
  return diffs.length > 0 ? diffs : [`${describe(ck)} → ${describe(run)}`];
}

/** Resume only where the run would compute the same thing: same model, settings and data. */
export function checkResumable(path: string, ck: CheckpointState, spec: ModelSpec, settings: string, dataHash: string): void {
  if (JSON.stringify(ck.spec) !== JSON.stringify(spec)) {
    throw new ConfigError(
      `${path}: the checkpoint is of another model than the config: ${specDifferences(ck.spec, spec).join(', ')}`,
      'resume with the config the checkpoint was made with',
    );
  }
  if (ck.settings !== settings) {
    const a = JSON.parse(ck.settings) as Record<string, unknown>;
    const b = JSON.parse(settings) as Record<string, unknown>;
    const diff = Object.keys({ ...a, ...b }).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
    throw new ConfigError(
      `${path}: the checkpoint was made with other settings: ${diff.map((k) => `${k} ${describe(a[k])} → ${describe(b[k])}`).join(', ')}`,
      'a bit-for-bit resume needs the same settings; only epochs and threads may change',
    );
  }
  if (ck.dataHash !== dataHash) {
    throw new ConfigError(`${path}: the checkpoint was made with different training data`, 'resume with the same data, split and scaling as the run that wrote it');
  }
}
