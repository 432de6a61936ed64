// Entry point of a sandbox worker process (forked by the pool). Plugin code runs here, in
// QuickJS; every host call goes back to the parent over IPC, which holds the real capabilities.
import { listenForCancellations } from './cancel-doorbell.js';
import { PluginHostError } from './errors.js';
import type { FromWorker, ToWorker } from './pool-protocol.js';
import { createSandbox } from './sandbox.js';
import { reissueVerified } from './verify-package.js';

/** Running invocations by id: aborting one stops its guest. */
const running = new Map<number, AbortController>();
const cancelledByPipe = listenForCancellations();
const sandbox = createSandbox({
  pollCancellations: () => {
    for (const [id, controller] of running) {
      if (!controller.signal.aborted && cancelledByPipe(id)) controller.abort();
    }
  },
});
const waiting = new Map<
  number,
  { id: number; resolve: (value: unknown) => void; reject: (error: unknown) => void }
>();
let nextCallId = 1;

function send(message: FromWorker): void {
  process.send?.(message);
}

function serialize(error: unknown) {
  return error instanceof PluginHostError
    ? error.toJSON()
    : { code: 'SANDBOX_CRASHED' as const, message: `The sandbox failed: ${String(error)}` };
}

process.on('message', (message: ToWorker) => {
  if (message.type === 'host-result') {
    const entry = waiting.get(message.callId);
    if (!entry) return;
    waiting.delete(message.callId);
    if (message.ok) entry.resolve(message.value);
    else entry.reject(PluginHostError.fromJSON(message.error!));
    return;
  }
  if (message.type === 'cancel') {
    running.get(message.id)?.abort();
    return;
  }
  const { id, request } = message;
  const controller = new AbortController();
  running.set(id, controller);
  const dispatch = (method: string, args: unknown) =>
    new Promise<unknown>((resolve, reject) => {
      const callId = nextCallId++;
      waiting.set(callId, { id, resolve, reject });
      send({ type: 'host-call', id, callId, method, args });
    });
  Promise.resolve()
    .then(() =>
      sandbox.invokeWithDispatch(
        { ...request, plugin: reissueVerified(request.plugin), signal: controller.signal },
        dispatch,
      ),
    )
    .then(
      (result) => send({ type: 'result', id, ok: true, result }),
      (error: unknown) => send({ type: 'result', id, ok: false, error: serialize(error) }),
    )
    .finally(() => {
      running.delete(id);
      // The parent answers no host call of a finished invocation: drop them.
      for (const [callId, entry] of waiting) if (entry.id === id) waiting.delete(callId);
    });
});

// The parent's IPC channel closing means the pool is gone: do not linger.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
