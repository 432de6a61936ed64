#!/usr/bin/env node
// Runs the TypeScript sources directly (swc, with decorator metadata for type-graphql).
await import('@swc-node/register/esm-register');
await import('../src/main.ts');
