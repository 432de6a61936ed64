import { defineConfig } from 'drizzle-kit';

// `npm run db:generate -w @roster/db` writes SQL migrations from the schema into db/migrations.
// Hand-written SQL (roles, RLS, grants) goes in `--custom` migrations beside them.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/schema/index.ts',
  out: '../../db/migrations',
  migrations: { prefix: 'index' },
});
