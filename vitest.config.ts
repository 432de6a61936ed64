import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// One vitest run for the whole monorepo. Tests named `*.db.test.ts` need Postgres: their
// project starts ONE Postgres for the run (embedded, or DATABASE_URL) and migrates a template
// database that each test file clones (see packages/db/test/). Everything else is pure.
const swcPlugin = () =>
  swc.vite({
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      keepClassNames: true,
      target: 'es2022',
    },
  });

const shared = {
  exclude: ['**/node_modules/**', '**/dist/**', '.roster/**'],
};

// graphql must load once: vite would resolve our imports to graphql's ESM build while Node loads
// its CJS build for type-graphql, Apollo and graphql-scalars ("another module or realm").
const resolve = { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] };

export default defineConfig({
  plugins: [swcPlugin()],
  resolve,
  test: {
    projects: [
      {
        plugins: [swcPlugin()],
        resolve,
        test: {
          ...shared,
          name: 'unit',
          include: ['{apps,packages,plugins,gpu-runners,bench}/**/*.test.ts'],
          exclude: [...shared.exclude, '**/*.db.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        plugins: [swcPlugin()],
        resolve,
        test: {
          ...shared,
          name: 'db',
          include: ['{apps,packages,plugins,gpu-runners,e2e}/**/*.db.test.ts'],
          globalSetup: ['packages/testkit/src/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
