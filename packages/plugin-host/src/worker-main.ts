// Entry point of a sandbox worker process (forked by the pool). Plugin code runs here, in
// QuickJS; every host call goes back to the parent over IPC, which holds the real capabilities.
import { PluginHostError } from './errors.js';
import type { FromWorker, ToWorker } from './pool-protocol.js';
import { createSandbox } from './sandbox.js';
import { reissueVerified } from './verify-package.js';

const sandbox = createSandbox();
const waiting = new Map<
  number,
  { resolve: (value: unknown) => void; reject: (error: unknown) => void }
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
  const { id, request } = message;
  const dispatch = (method: string, args: unknown) =>
    new Promise<unknown>((resolve, reject) => {
      const callId = nextCallId++;
      waiting.set(callId, { resolve, reject });
      send({ type: 'host-call', id, callId, method, args });
    });
  Promise.resolve()
    .then(() =>
      sandbox.invokeWithDispatch({ ...request, plugin: reissueVerified(request.plugin) }, dispatch),
    )
    .then(
      (result) => send({ type: 'result', id, ok: true, result }),
      (error: unknown) => send({ type: 'result', id, ok: false, error: serialize(error) }),
    );
});

// The parent's IPC channel closing means the pool is gone: do not linger.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
