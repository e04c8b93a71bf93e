// npm run schema: regenerate configs/threadtrain.schema.json from the zod schema.

import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configJsonSchemaText } from '../src/options/json_schema.ts';
import { SCHEMA_FILE } from '../src/options/schema.ts';

const file = fileURLToPath(new URL(`../configs/${SCHEMA_FILE}`, import.meta.url));
fs.writeFileSync(file, configJsonSchemaText());
console.log(`wrote ${file}`);
