import variant from '@jitl/quickjs-wasmfile-release-sync';
import {
  newQuickJSWASMModuleFromVariant,
  type QuickJSSyncVariant,
  type QuickJSWASMModule,
} from 'quickjs-emscripten-core';

// The package's types describe its CommonJS build; under ESM the default export is the variant.
const syncVariant = ((variant as { default?: unknown }).default ?? variant) as QuickJSSyncVariant;

/**
 * Holds the shared WASM module. After a host-level crash (a RangeError or WebAssembly
 * RuntimeError escaping QuickJS, or an abort in dispose) the module's memory can be corrupt,
 * so the next invocation gets a fresh module (~20 ms).
 */
export class QuickJSEngine {
  private current: Promise<QuickJSWASMModule> | undefined;
  private recycled = 0;

  module(): Promise<QuickJSWASMModule> {
    if (!this.current) {
      const loading = newQuickJSWASMModuleFromVariant(syncVariant);
      // A failed load must not be cached.
      loading.catch(() => {
        if (this.current === loading) this.current = undefined;
      });
      this.current = loading;
    }
    return this.current;
  }

  /**
   * Size of the module's WASM heap. QuickJS's own limit counts each allocation, not their sum,
   * in this build (it cannot see malloc sizes), so growth of the heap is the honest measure.
   */
  static heapBytes(module: QuickJSWASMModule): number {
    const heap = (module as unknown as { module?: { HEAPU8?: Uint8Array } }).module?.HEAPU8;
    return heap?.byteLength ?? 0;
  }

  recycle(): void {
    this.current = undefined;
    this.recycled += 1;
  }

  get recycleCount(): number {
    return this.recycled;
  }
}
