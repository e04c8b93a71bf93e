// The building blocks of the option schemas: a field with its meta (description for editors
// and --help, hint for error messages, and what the CLI needs to know), and the number
// shapes several fields share, so each rule (a seed is a uint32, say) is written once.

import { z } from 'zod';

/** What a field's meta may hold (see the header). */
export interface FieldMeta {
  readonly description?: string;
  readonly hint?: string;
  readonly flag?: string;
  readonly path?: 'input' | 'output';
  /** What the field takes, in words, where its JSON Schema cannot say (a dataset). */
  readonly expected?: string;
  /** On a union of objects each named by one key (the data section): the keys, in member order. */
  readonly unionKeys?: readonly string[];
  /** false: a section only a config file gives, with no flags of its own (the sweep section). */
  readonly cli?: false;
}

/** `schema` with its description and hint. */
export function field<T extends z.ZodType>(schema: T, description: string, hint: string, extra: Omit<FieldMeta, 'description' | 'hint'> = {}): T {
  return schema.meta({ description, hint, ...extra }) as T;
}

export const positiveInt = () => z.number().int().min(1);
/** Seeds are uint32: the generator (rng.ts) takes 32 bits. */
export const seedSchema = () => z.number().int().min(0).max(0xffffffff);
export const fraction = () => z.number().min(0).lt(1);
export const nonNegative = () => z.number().min(0);

