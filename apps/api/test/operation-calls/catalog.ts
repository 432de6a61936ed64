/// <reference types="vite/client" />
import type { TestApi } from '../api-harness.js';
import { CORE_CALLS, coreFixture } from './core.js';
import type { DomainCalls, Fixture, MatrixOwner, OperationCall } from './types.js';

// Other domains (marketplace, models, reviews, audit, ...) add their operations in
// apps/api/test/operation-calls/*-calls.ts, so each can grow without editing the tests.
const domains = Object.values(
  import.meta.glob<{ default: DomainCalls }>('./*-calls.ts', { eager: true }),
).map((m) => m.default);

/** Every operation's call: the core ones and each domain's. */
export const CALLS: Record<string, OperationCall> = Object.assign(
  {},
  CORE_CALLS,
  ...domains.map((d) => d.calls),
);

/** Fresh objects (made by the owner) for one call: the core fixture and each domain's. */
export async function ownerFixture(api: TestApi, owner: MatrixOwner): Promise<Fixture> {
  const fixture = await coreFixture(api, owner);
  for (const domain of domains) {
    if (domain.fixture) Object.assign(fixture, await domain.fixture(api, owner));
  }
  return fixture;
}
