// Writes apps/api/schema.graphql from the code: `npm run schema -w @roster/api`.
import { writeFile } from 'node:fs/promises';
import { printApiSchema } from '../src/index.ts';

await writeFile(new URL('../schema.graphql', import.meta.url), printApiSchema());
console.log('wrote apps/api/schema.graphql');
