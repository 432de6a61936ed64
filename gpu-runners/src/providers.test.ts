import { describe, expect, it } from 'vitest';
import { providerAttempts, providerUnavailableError } from './providers.js';

describe('providerAttempts', () => {
  it.each([
    [{}, [['cpu', ['cpu']]]],
    [{ providers: ['webgpu'] }, [['webgpu', ['webgpu', 'cpu']]]],
    [
      { providers: ['webgpu'], fallbackToCpu: true },
      [
        ['webgpu', ['webgpu', 'cpu']],
        ['cpu', ['cpu']],
      ],
    ],
    [
      { providers: ['cuda', 'webgpu', 'cpu'] },
      [
        ['cuda', ['cuda', 'cpu']],
        ['webgpu', ['webgpu', 'cpu']],
        ['cpu', ['cpu']],
      ],
    ],
    [{ providers: ['cpu', 'cpu'], fallbackToCpu: true }, [['cpu', ['cpu']]]],
  ] as const)('%j', (choice, expected) => {
    expect(providerAttempts(choice).map((a) => [a.provider, a.executionProviders])).toEqual(
      expected,
    );
  });
});

describe('providerUnavailableError', () => {
  it('names the provider, onnxruntime reason, what it needs and how to fall back', () => {
    const e = providerUnavailableError({ providers: ['webgpu'] }, [
      {
        provider: 'webgpu',
        message: 'Failed to get a WebGPU adapter: No supported adapters\nmore',
      },
    ]);
    expect(e.code).toBe('PROVIDER_UNAVAILABLE');
    expect(e.message).toBe(
      "Execution provider 'webgpu' unavailable: 'webgpu' could not start: Failed to get a WebGPU adapter: No supported adapters (webgpu needs Vulkan: libvulkan.so.1 and the GPU vendor ICD (on NVIDIA set VK_DRIVER_FILES to nvidia_icd.json), see gpu-runners/README.md). The runner does not fall back to the CPU on its own: install what the provider needs, or list 'cpu' after it in the pool's providers, or start the runner with fallbackToCpu: true (--fallback-to-cpu).",
    );
  });
});
