import type { SerializedPluginHostError } from './errors.js';
import type { InvokeRequest, InvokeResult } from './sandbox.js';

/** An InvokeRequest whose plugin is plain data (the worker re-issues it after an integrity check). */
export type WireInvokeRequest = Omit<InvokeRequest, 'plugin' | 'signal' | 'boundCapabilities'> & {
  readonly plugin: {
    readonly manifest: InvokeRequest['plugin']['manifest'];
    readonly code: string;
    readonly integrity: string;
    readonly publisher: string;
    readonly keyId: string;
  };
};

/** Messages between the pool (parent) and a sandbox worker process over IPC. */
export type ToWorker =
  | { readonly type: 'invoke'; readonly id: number; readonly request: WireInvokeRequest }
  /** The caller cancelled invocation `id`: stop its guest and answer with its result as usual. */
  | { readonly type: 'cancel'; readonly id: number }
  | {
      readonly type: 'host-result';
      readonly id: number;
      readonly callId: number;
      readonly ok: boolean;
      readonly value?: unknown;
      readonly error?: SerializedPluginHostError;
    };

export type FromWorker =
  | { readonly type: 'ready' }
  | {
      readonly type: 'host-call';
      readonly id: number;
      readonly callId: number;
      readonly method: string;
      readonly args: unknown;
    }
  | {
      readonly type: 'result';
      readonly id: number;
      readonly ok: true;
      readonly result: InvokeResult;
    }
  | {
      readonly type: 'result';
      readonly id: number;
      readonly ok: false;
      readonly error: SerializedPluginHostError;
    };
