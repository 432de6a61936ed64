// One onnxruntime-node session in a worker thread, so `run` never blocks the runner's event
// loop. Plain JavaScript so that it starts the same under vitest, swc-node and a build.
// workerData: { model: Uint8Array, attempts: [{ provider, executionProviders }], sessionOptions }
// -> { type: 'ready', provider, inputNames, outputNames } | { type: 'failed', failures }
// then messages { id, feeds: { name: { type, data, dims } } }
// -> { type: 'result', id, outputs: { name: { type, data, dims } } } | { type: 'error', id, message }
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

const { model, attempts, sessionOptions } = workerData;
const failures = [];
let session;
for (const attempt of attempts) {
  try {
    session = await ort.InferenceSession.create(model, {
      ...sessionOptions,
      executionProviders: attempt.executionProviders,
    });
    parentPort.postMessage({
      type: 'ready',
      provider: attempt.provider,
      inputNames: session.inputNames,
      outputNames: session.outputNames,
    });
    break;
  } catch (error) {
    failures.push({ provider: attempt.provider, message: String(error?.message ?? error) });
  }
}

if (!session) {
  parentPort.postMessage({ type: 'failed', failures });
} else {
  // One run at a time per session: concurrent runs would share its intra-op threads and
  // slow each other down; the pool spreads batches over threads instead.
  let queue = Promise.resolve();
  parentPort.on('message', (message) => {
    queue = queue.then(() => runOne(message));
  });
}

async function runOne({ id, feeds }) {
  try {
    const tensors = {};
    for (const [name, t] of Object.entries(feeds))
      tensors[name] = new ort.Tensor(t.type, t.data, t.dims);
    const results = await session.run(tensors);
    const outputs = {};
    const transfer = [];
    for (const [name, t] of Object.entries(results)) {
      // Copy out of onnxruntime's buffer so the copy can be transferred without a second copy.
      const data = t.data.slice();
      outputs[name] = { type: t.type, data, dims: [...t.dims] };
      transfer.push(data.buffer);
      t.dispose?.();
    }
    parentPort.postMessage({ type: 'result', id, outputs }, transfer);
  } catch (error) {
    parentPort.postMessage({ type: 'error', id, message: String(error?.message ?? error) });
  }
}
