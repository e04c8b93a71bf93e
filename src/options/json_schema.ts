// The JSON Schema of a config file, generated from the zod schema (schema.ts) so that it can
// never say something else. It ships as configs/threadtrain.schema.json (`npm run schema`
// writes it; a test fails when the shipped file differs from a fresh generation); configs
// name it in "$schema", so editors complete and check them.

import { z } from 'zod';
import { configSchema } from './schema.ts';

// Meta keys that steer the CLI and the error messages, not a JSON Schema reader.
const INTERNAL_META = ['hint', 'flag', 'path', 'unionKeys', 'cli'] as const;

export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, {
    // What a person writes: fields with defaults are optional.
    io: 'input',
    override: (ctx) => {
      const json = ctx.jsonSchema as Record<string, unknown>;
      for (const key of INTERNAL_META) delete json[key];
      // A list being immutable once parsed says nothing to a config's author.
      delete json.readOnly;
    },
  }) as Record<string, unknown>;
  return { ...schema, title: 'threadtrain config', description: 'One training run of threadtrain: the data, the model, how to train it, and where the results go.' };
}

/** The file's text, as shipped: two-space indents and a final newline. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
