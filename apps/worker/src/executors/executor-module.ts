import type { Pool, PoolOptions } from '@roster/db';
import { type EngineOptions, ExecutorRegistry } from '@roster/engine';

/**
 * What an executorModule's default export gives a worker process: its executors, or its
 * executors and the engine options that go with them (sealInput where the module holds the key
 * provider, so that runs the process starts itself, by schedules and escalations, are sealed).
 */
export type WorkerExecutors =
  | ExecutorRegistry
  | { executors: ExecutorRegistry; engine?: EngineOptions };

export type ExecutorModuleDeps = {
  appUrl: string;
  createPool: (url: string, options?: PoolOptions) => Pool;
};

/** Loads `path`'s default export and normalises it; no module gives empty executors. */
export async function loadExecutorModule(
  path: string | undefined,
  deps: ExecutorModuleDeps,
): Promise<{ executors: ExecutorRegistry; engine: EngineOptions }> {
  if (!path) return { executors: new ExecutorRegistry(), engine: {} };
  const built: WorkerExecutors = await (await import(path)).default(deps);
  return built instanceof ExecutorRegistry
    ? { executors: built, engine: {} }
    : { executors: built.executors, engine: built.engine ?? {} };
}
