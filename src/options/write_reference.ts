// `npm run docs`: regenerate the config reference in README.md (between its markers) from the
// schema. A test fails when the README's block differs from what this writes, so run it after
// changing schema.ts (`npm run schema` runs it too).

import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../io/envelope.ts';
import { withConfigReference } from './reference.ts';

const file = fileURLToPath(new URL('../../README.md', import.meta.url));
writeFileAtomic(file, new TextEncoder().encode(withConfigReference(fs.readFileSync(file, 'utf8'))));
console.log(`wrote the config reference into ${file}`);
