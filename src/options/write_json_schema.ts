// `npm run schema`: regenerate configs/threadtrain.schema.json from the zod schema. A test
// fails when the shipped file differs from what this writes, so run it after changing schema.ts.

import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../io/envelope.ts';
import { configJsonSchemaText } from './json_schema.ts';
import { SCHEMA_FILE } from './schema.ts';

const file = fileURLToPath(new URL(`../../configs/${SCHEMA_FILE}`, import.meta.url));
writeFileAtomic(file, new TextEncoder().encode(configJsonSchemaText()));
console.log(`wrote ${file}`);
