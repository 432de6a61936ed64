import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { printApiSchema } from './schema.js';

describe('the committed SDL', () => {
  it('matches the schema generated from the code (run `npm run schema -w @roster/api` after changing resolvers)', async () => {
    const committed = await readFile(new URL('../../schema.graphql', import.meta.url), 'utf8');
    expect(printApiSchema()).toBe(committed);
  });
});
