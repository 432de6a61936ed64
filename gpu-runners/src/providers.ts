// Execution provider selection. The pool's configuration lists providers in preference order;
// each is tried in turn (with onnxruntime's CPU kernels behind it for the operators the
// accelerator lacks). A runner never drops to the CPU on its own: that only happens when
// `cpu` is listed or `fallbackToCpu` is set, because a GPU pool silently running on the CPU
// is a capacity incident nobody sees.

import type { ExecutionProvider } from '@roster/inference';
import { RunnerError } from './errors.js';

export interface ProviderChoice {
  /** Providers in preference order, e.g. ['webgpu'] or ['cuda', 'webgpu', 'cpu']. Default ['cpu']. */
  providers?: readonly ExecutionProvider[];
  /** Run on the CPU when none of `providers` starts. Default false. */
  fallbackToCpu?: boolean;
}

/** One session-creation attempt: the provider it is for and the list given to onnxruntime. */
export interface ProviderAttempt {
  provider: ExecutionProvider;
  executionProviders: ExecutionProvider[];
}

/** The attempts to make, in order, for `choice`. */
export function providerAttempts(choice: ProviderChoice): ProviderAttempt[] {
  const providers = choice.providers?.length ? [...new Set(choice.providers)] : ['cpu' as const];
  const attempts = providers.map((provider) => ({
    provider,
    executionProviders: provider === 'cpu' ? ['cpu' as const] : [provider, 'cpu' as const],
  }));
  if (choice.fallbackToCpu && !providers.includes('cpu')) {
    attempts.push({ provider: 'cpu', executionProviders: ['cpu'] });
  }
  return attempts;
}

const needs: Record<ExecutionProvider, string> = {
  webgpu:
    'webgpu needs Vulkan: libvulkan.so.1 and the GPU vendor ICD (on NVIDIA set VK_DRIVER_FILES to nvidia_icd.json), see gpu-runners/README.md',
  cuda: "cuda needs the CUDA 12 and cuDNN libraries and onnxruntime-node's CUDA provider files, which this repository's install skips (.npmrc)",
  cpu: 'the cpu provider ships with onnxruntime-node; its failure usually means the model itself cannot load',
};

/** The error for when every attempt failed; `failures` holds onnxruntime's message per attempt. */
export function providerUnavailableError(
  choice: ProviderChoice,
  failures: ReadonlyArray<{ provider: ExecutionProvider; message: string }>,
): RunnerError {
  const listed = providerAttempts(choice).map((a) => a.provider);
  const reasons = failures
    .map(
      (f) => `'${f.provider}' could not start: ${f.message.split('\n')[0]} (${needs[f.provider]})`,
    )
    .join('; ');
  const cpuTried = listed.includes('cpu');
  const rule = cpuTried
    ? 'Fix the model or the provider setup.'
    : "The runner does not fall back to the CPU on its own: install what the provider needs, or list 'cpu' after it in the pool's providers, or start the runner with fallbackToCpu: true (--fallback-to-cpu).";
  return new RunnerError(
    'PROVIDER_UNAVAILABLE',
    `Execution provider ${listed.map((p) => `'${p}'`).join(', ')} unavailable: ${reasons}. ${rule}`,
    { providers: listed, failures: failures.map((f) => ({ ...f })) },
  );
}
