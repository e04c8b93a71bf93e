// Command-line flags derived from the config schema: every option field gets one, named
// after its key in kebab case (`batchSize` → --batch-size) unless its meta names it
// (`flag`: train.checkpoint.path → --checkpoint, the three "patience"s apart). The field
// that picks an optimizer or a schedule takes the section's name (--optimizer adam,
// --schedule cosine). `--set a.b.c=VALUE` reaches any field by its config path. The data
// section has its own grammar (--data, data_source.ts). A value is read as JSON where it
// parses (numbers, true/false, lists), else as text, and the schema then checks it, so
// a flag's message is the same as the config field's with the flag as its "where".

import { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { DATA_SOURCES, parseScalar } from './data_source.ts';
import { closestName } from './closest_name.ts';
import { unwrap } from './errors.ts';
import type { CommandLineValue } from './parse.ts';
import { configSchema } from './schema.ts';

export interface FlagSpec {
  /** Without the dashes: "batch-size". */
  readonly name: string;
  /** Config path it sets: ["train", "batchSize"]. */
  readonly path: readonly string[];
  readonly description: string;
  /** The schema's default, for --help; undefined when the field has none. */
  readonly defaultValue: unknown;
  /** Text-only fields keep their value as typed ("007" stays a name, not the number 7). */
  readonly text: boolean;
  /** Picks a member of its section (optimizer name, schedule type): applied before the member's fields. */
  readonly picksMember: boolean;
}

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

type Def = { type: string; shape?: Record<string, z.ZodType>; options?: z.ZodType[]; discriminator?: string; defaultValue?: unknown; innerType?: z.ZodType };
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The default a wrapped schema declares, if any (the outermost default wins). */
function defaultOf(schema: z.ZodType): unknown {
  let s: z.ZodType | undefined = schema;
  while (s) {
    const def = defOf(s);
    if (def.type === 'default') return def.defaultValue;
    s = def.type === 'optional' || def.type === 'nullable' ? def.innerType : undefined;
  }
  return undefined;
}

function isText(schema: z.ZodType): boolean {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { type?: string };
  return json.type === 'string';
}

function collect(schema: z.ZodType, at: readonly string[], out: Map<string, FlagSpec>, pickName?: string): void {
  const { core, meta } = unwrap(schema);
  const def = defOf(core);
  if (meta.unionKeys) return; // the data section: --data
  if (meta.cli === false) return; // a section only config files give (sweep)
  if (def.type === 'object' && def.shape) {
    for (const [key, s] of Object.entries(def.shape)) if (key !== '$schema') collect(s, [...at, key], out);
    return;
  }
  if (def.type === 'union' && def.discriminator) {
    // Every member's fields under the section's path; the discriminator named after the section.
    for (const member of def.options ?? []) {
      const shape = defOf(unwrap(member).core).shape ?? {};
      for (const [key, s] of Object.entries(shape)) {
        collect(s, [...at, key], out, key === def.discriminator ? at[at.length - 1] : undefined);
      }
    }
    return;
  }
  const key = at[at.length - 1]!;
  const name = (meta.flag as string | undefined) ?? pickName ?? kebab(key);
  const existing = out.get(name);
  if (existing) {
    // The same field in two members of a union (minLr of cosine and plateau) is one flag.
    if (existing.path.join('.') === at.join('.')) return;
    throw new Error(`flag --${name} derived twice: ${existing.path.join('.')} and ${at.join('.')}; give one a meta flag name in schema.ts`);
  }
  out.set(name, {
    name, path: at, description: String(meta.description ?? ''), defaultValue: defaultOf(schema), text: isText(core) && pickName === undefined,
    picksMember: pickName !== undefined,
  });
}

/** Every flag the config schema derives, in schema order. */
export const FLAGS: readonly FlagSpec[] = (() => {
  const out = new Map<string, FlagSpec>();
  collect(configSchema, [], out);
  return [...out.values()];
})();

/** Flag names that are not config fields but belong to every config-taking command. */
export const DATA_FLAGS = {
  data: { describe: `the training data: ${DATA_SOURCES.grammar}` },
  label: { describe: 'the CSV label column (name or 0-based index)' },
  set: { describe: 'set any config field by its path, e.g. --set train.optimizer.beta2=0.99 (repeatable)' },
} as const;

/** `--set a.b.c=VALUE` as a config value. */
export function parseSet(text: string): CommandLineValue {
  const eq = text.indexOf('=');
  const key = eq < 0 ? text : text.slice(0, eq);
  if (eq < 0 || key.trim() === '' || key.split('.').some((k) => k === '')) {
    throw new ConfigError(`--set ${text}: expected PATH=VALUE with a dotted config path, found ${JSON.stringify(text)}`, 'e.g. --set train.optimizer.beta2=0.99');
  }
  return { path: key.split('.'), value: parseScalar(text.slice(eq + 1)), flag: `--set ${key}` };
}

/**
 * The config values a parsed command line gives, in the order they apply: --data, then
 * the member-picking flags (optimizer, schedule), then the other flags, then each --set.
 * `args` is yargs' result, keyed by flag name.
 */
export function commandLineValues(args: Record<string, unknown>): CommandLineValue[] {
  const values: CommandLineValue[] = [];
  const label = args.label === undefined ? undefined : String(args.label);
  if (args.data !== undefined) {
    values.push({ path: ['data'], value: DATA_SOURCES.fromText(String(args.data), label), flag: '--data' });
  } else if (label !== undefined) {
    values.push({ path: ['data', 'label'], value: parseScalar(label), flag: '--label' });
  }
  const ordered = [...FLAGS.filter((f) => f.picksMember), ...FLAGS.filter((f) => !f.picksMember)];
  for (const f of ordered) {
    const raw = args[f.name];
    if (raw === undefined) continue;
    const one = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    const value = typeof one === 'string' && !f.text ? parseScalar(one) : one;
    values.push({ path: f.path, value, flag: `--${f.name}` });
  }
  const sets = args.set === undefined ? [] : Array.isArray(args.set) ? args.set : [args.set];
  for (const s of sets) values.push(parseSet(String(s)));
  return values;
}

/** "did you mean --epochs?" for an unknown flag, when one is close. */
export function suggestFlag(unknown: string, known: readonly string[]): string | undefined {
  const guess = closestName(unknown, known);
  return guess === undefined ? undefined : `--${guess}`;
}
