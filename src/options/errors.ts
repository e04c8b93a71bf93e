// One message style for every bad option, whether it came from a config file, a flag or a
// train() call: WHERE (file and JSON path, --flag, or option path), what was EXPECTED, what
// was FOUND, then `hint:`. Unknown keys and enum values suggest the nearest valid name.
// The expected part is read off the field's JSON Schema (the same text an editor shows),
// and the hint off the field's meta (schema.ts), so neither is written twice.

import { z } from 'zod';
import { ConfigError, DataError, describe } from '../errors.ts';
import { closestName } from './closest_name.ts';

type Path = readonly PropertyKey[];
type Schema = z.ZodType;
type Meta = Record<string, unknown>;

/** Says where a path is, for the start of a message: "cfg.json: train.lr", "--lr", "lr". A `label` says it without the file, for suggestions. */
export type Where = (path: Path) => string;

// ---------------------------------------------------------------------------------------
// Walking a schema alongside a value

interface Def {
  type: string;
  innerType?: Schema;
  in?: Schema;
  shape?: Record<string, Schema>;
  element?: Schema;
  valueType?: Schema;
  options?: Schema[];
  discriminator?: string;
}
const defOf = (s: Schema): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The schema under its wrappers (optional, default, pipe, ...), and every meta met on the way. */
export function unwrap(schema: Schema): { core: Schema; meta: Meta } {
  let s = schema;
  let meta: Meta = {};
  for (;;) {
    meta = { ...(z.globalRegistry.get(s) as Meta | undefined), ...meta };
    const def = defOf(s);
    const next = def.type === 'pipe' ? def.in : def.innerType;
    if (!next || !['optional', 'default', 'prefault', 'nullable', 'pipe', 'readonly', 'catch', 'nonoptional'].includes(def.type)) {
      return { core: s, meta };
    }
    s = next;
  }
}

/** The member of a union that `value` is meant for: by discriminator, by naming key, or by fit. */
export function unionMember(union: Schema, value: unknown): { member: Schema; index: number } | undefined {
  const def = defOf(union);
  const options = def.options ?? [];
  const obj = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  const shapeOf = (s: Schema) => defOf(unwrap(s).core).shape;
  if (def.discriminator && obj) {
    const key = def.discriminator;
    const index = options.findIndex((o) => {
      const lit = shapeOf(o)?.[key];
      return lit !== undefined && lit.safeParse(obj[key]).success;
    });
    return index < 0 ? undefined : { member: options[index]!, index };
  }
  const keys = unwrap(union).meta.unionKeys as string[] | undefined;
  if (keys && obj) {
    const named = keys.filter((k) => obj[k] !== undefined);
    if (named.length !== 1) return undefined;
    const index = keys.indexOf(named[0]!);
    return { member: options[index]!, index };
  }
  return undefined;
}

/** The schema of the field at `path` under `root`, given the value being parsed. */
export function schemaAt(root: Schema, path: Path, value: unknown): Schema | undefined {
  let s: Schema = root;
  let v = value;
  for (const key of path) {
    const core = memberCore(s, v);
    if (!core) return undefined;
    const def = defOf(core);
    if (def.type === 'object' && typeof key === 'string' && def.shape?.[key]) s = def.shape[key]!;
    else if (def.type === 'array' && typeof key === 'number' && def.element) s = def.element;
    else if (def.type === 'record' && typeof key === 'string' && def.valueType) s = def.valueType;
    else return undefined;
    v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  }
  return s;
}

/** The keys an object schema (or the member of a union meant for `value`) takes. */
export function keysOf(schema: Schema, value: unknown): string[] {
  const core = memberCore(schema, value);
  return core ? Object.keys(defOf(core).shape ?? {}) : [];
}

/** The discriminator of the union (nested ones too) that picks `value`'s member, if any. */
function discriminatorOf(schema: Schema, value: unknown): string | undefined {
  let core = unwrap(schema).core;
  while (defOf(core).type === 'union') {
    if (defOf(core).discriminator) return defOf(core).discriminator;
    const m = unionMember(core, value);
    if (!m) return undefined;
    core = unwrap(m.member).core;
  }
  return undefined;
}

/** The unwrapped schema `value` is checked by: through unions (nested ones too) to the member meant for it. */
function memberCore(schema: Schema, value: unknown): Schema | undefined {
  let core = unwrap(schema).core;
  while (defOf(core).type === 'union') {
    const m = unionMember(core, value);
    if (!m) return undefined;
    core = unwrap(m.member).core;
  }
  return core;
}

// ---------------------------------------------------------------------------------------
// "expected ..." from the field's JSON Schema

interface Json {
  type?: string;
  const?: unknown;
  enum?: unknown[];
  anyOf?: Json[];
  oneOf?: Json[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
}

const INT_LIMIT = Number.MAX_SAFE_INTEGER;

function numberRule(j: Json): string {
  const int = j.type === 'integer';
  const lo = j.exclusiveMinimum ?? j.minimum;
  const hi = j.exclusiveMaximum ?? (j.maximum !== undefined && Math.abs(j.maximum) < INT_LIMIT ? j.maximum : undefined);
  const loOpen = j.exclusiveMinimum !== undefined;
  const hiOpen = j.exclusiveMaximum !== undefined;
  const low = lo !== undefined && lo > -INT_LIMIT ? lo : undefined;
  if (int && low === 1 && hi === undefined) return 'a positive integer';
  if (int && low === 0 && hi === undefined) return 'a whole number ≥ 0';
  if (int && low !== undefined && hi === undefined) return `an integer ≥ ${low}`;
  const noun = int ? 'an integer' : 'a number';
  if (low !== undefined && hi !== undefined) return `${noun} in ${loOpen ? '(' : '['}${low}, ${hi}${hiOpen ? ')' : ']'}`;
  if (low !== undefined) return `${noun} ${loOpen ? '>' : '≥'} ${low}`;
  if (hi !== undefined) return `${noun} ${hiOpen ? '<' : '≤'} ${hi}`;
  return int ? 'an integer' : 'a finite number';
}

function jsonRule(j: Json): string {
  const alts = j.anyOf ?? j.oneOf;
  if (alts) return [...new Set(alts.map(jsonRule))].join(' or ');
  if (j.const !== undefined) return JSON.stringify(j.const);
  if (j.enum) return `one of ${j.enum.join(', ')}`;
  switch (j.type) {
    case 'integer':
    case 'number':
      return numberRule(j);
    case 'boolean':
      return 'true or false';
    case 'string':
      if (j.minLength === 1 && j.maxLength === 1) return 'one character';
      return j.minLength ? 'a non-empty string' : 'a string';
    case 'array':
      return j.minItems ? 'a non-empty list' : 'a list';
    case 'object':
      return 'an object';
    default:
      return 'a valid value';
  }
}

const expectedCache = new WeakMap<Schema, string>();

/** What a field takes, in words: "a positive integer", "one of auto, wasm, js", ... */
export function expectedOf(schema: Schema): string {
  let text = expectedCache.get(schema);
  if (text === undefined) {
    // Values JSON cannot describe (a dataset) say what they take in their meta.
    text = (unwrap(schema).meta.expected as string | undefined) ?? jsonRule(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json);
    expectedCache.set(schema, text);
  }
  return text;
}

// ---------------------------------------------------------------------------------------
// Issues to messages

const valueAt = (value: unknown, path: Path): unknown =>
  path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined), value);

/**
 * A dotted option path: model.layers[0].units. A key below the first that is not a name
 * is quoted: sweep.grid["train.lr"]. (The first may be a caller's own dotted prefix.)
 */
export function dotted(path: Path): string {
  return path.map((k, i) => {
    if (typeof k === 'number') return `[${k}]`;
    const key = String(k);
    if (i === 0) return key;
    return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
  }).join('');
}

type Issue = z.core.$ZodIssue;

function hintOf(root: Schema, path: Path, value: unknown, fallback: string): string {
  const s = schemaAt(root, path, value);
  return (s && (unwrap(s).meta.hint as string | undefined)) ?? fallback;
}

/** The hint of a discriminated union's discriminator field (every member carries the same one). */
function firstMemberHint(schema: Schema | undefined, disc: string): string | undefined {
  if (!schema) return undefined;
  const first = defOf(unwrap(schema).core).options?.[0];
  const field = first && defOf(unwrap(first).core).shape?.[disc];
  return field ? (unwrap(field).meta.hint as string | undefined) : undefined;
}

/** The first thing to report: a misspelt key explains a "missing" field, so it goes first. */
function firstIssue(issues: readonly Issue[]): Issue {
  return issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0]!;
}

/** One ConfigError for a failed parse of `value` by `root`. */
export function issueError(root: Schema, value: unknown, issues: readonly Issue[], where: Where, label: Where = dotted, base: Path = []): ConfigError {
  const issue = firstIssue(issues);
  const path = [...base, ...issue.path];
  const found = valueAt(value, path);
  const fieldSchema = schemaAt(root, path, value);
  const hint = (fallback: string) => hintOf(root, path, value, fallback);

  switch (issue.code) {
    case 'unrecognized_keys': {
      const key = issue.keys[0]!;
      const known = keysOf(schemaAt(root, path, value) ?? root, found);
      const guess = closestName(key, known);
      const disc = discriminatorOf(schemaAt(root, path, value) ?? root, found);
      const kind = disc && found !== null && typeof found === 'object' ? (found as Record<string, unknown>)[disc] : undefined;
      const section = label(path) + (kind !== undefined ? ` with ${disc} ${describe(kind)}` : '');
      return new ConfigError(
        `${where([...path, key])}: unknown option${guess ? `; did you mean ${label([...path, guess])}?` : ''}`,
        known.length ? `${section} takes ${known.join(', ')}` : `${section} takes no options`,
      );
    }
    case 'invalid_union': {
      const union = fieldSchema && unwrap(fieldSchema).core;
      const member = union ? unionMember(union, found) : undefined;
      if (member && issue.errors[member.index]?.length) return issueError(root, value, issue.errors[member.index]!, where, label, path);
      const keys = union ? (unwrap(union).meta.unionKeys as string[] | undefined) : undefined;
      if (keys && found !== null && typeof found === 'object' && !Array.isArray(found)) {
        const given = Object.keys(found);
        const named = keys.filter((k) => given.includes(k));
        const guess = named.length === 0 ? given.map((k) => closestName(k, keys)).find((g) => g !== undefined) : undefined;
        return new ConfigError(
          `${where(path)}: expected exactly one of ${keys.join(', ')}, found ${named.length ? named.join(' and ') : given.length ? `only ${given.join(', ')}` : 'none'}` +
            `${guess ? `; did you mean ${label([...path, guess])}?` : ''}`,
          named.length > 1 ? 'train on one source; held-out rows go in files of that source (testCsv, idx.testImages)' : hint('name the data'),
        );
      }
      if ('discriminator' in issue && issue.discriminator !== undefined) {
        // No member has this discriminator value (e.g. optimizer name "adma").
        const disc = String(issue.discriminator);
        const at = path[path.length - 1] === disc ? path : [...path, disc];
        const got = valueAt(value, at);
        const allowed = ((issue as { options?: unknown[] }).options ?? []).filter((o): o is string => typeof o === 'string');
        const guess = typeof got === 'string' ? closestName(got, allowed) : undefined;
        return new ConfigError(
          `${where(at)}: expected one of ${allowed.join(', ')}, found ${describe(got)}${guess ? `; did you mean "${guess}"?` : ''}`,
          firstMemberHint(fieldSchema ?? schemaAt(root, path.slice(0, -1), value), disc) ?? `e.g. "${allowed[0]}"`,
        );
      }
      break;
    }
    case 'invalid_value': {
      const allowed = issue.values.map(String);
      const guess = typeof found === 'string' ? closestName(found, allowed) : undefined;
      return new ConfigError(
        `${where(path)}: expected ${allowed.length === 1 ? JSON.stringify(issue.values[0]) : `one of ${allowed.join(', ')}`}, found ${found === undefined ? 'nothing' : describe(found)}` +
          `${guess ? `; did you mean "${guess}"?` : ''}`,
        hint(`e.g. "${allowed[0]}"`),
      );
    }
    case 'custom': {
      // `data: true` marks a problem with the values of a dataset (a NaN input), not with an option.
      const params = issue.params as { hint?: string; data?: boolean } | undefined;
      if (params?.hint) return new (params.data ? DataError : ConfigError)(`${where(path)}: ${issue.message}`, params.hint);
      break;
    }
    default:
      break;
  }
  const expected = fieldSchema ? expectedOf(fieldSchema) : issue.code === 'custom' ? issue.message.replace(/^expected /, '') : 'a valid value';
  return new ConfigError(`${where(path)}: expected ${expected}, found ${found === undefined ? 'nothing' : describe(found)}`, hint('see configs/threadtrain.schema.json for every option'));
}

/** Parse `value` with `schema`, or throw the first problem as one ConfigError. */
export function parseWith<S extends Schema>(schema: S, value: unknown, where: Where, label: Where = dotted): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw issueError(schema, value, result.error.issues, where, label);
}
