import { defineAction } from '@roster/plugin-sdk';
import { z } from 'zod';

export const query = defineAction({
  title: 'Run a parameterised query',
  description: 'One statement; values go in params and are referenced as $1, $2, ...',
  uses: ['sql'],
  input: z.object({
    sql: z
      .string()
      .min(1)
      .max(64 * 1024),
    params: z
      .array(z.union([z.string(), z.number(), z.boolean(), z.null()]))
      .max(100)
      .optional(),
  }),
  output: z.object({
    rows: z.array(z.record(z.string(), z.unknown())),
    rowCount: z.number().int(),
  }),
  async run(ctx, input) {
    const result = await ctx.sql.query(input.sql, input.params ?? []);
    return { rows: result.rows, rowCount: result.rowCount };
  },
});
