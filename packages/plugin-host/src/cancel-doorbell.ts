// A second channel for cancellations, beside IPC. A guest in a busy loop holds the worker's event
// loop, so an IPC 'cancel' message would wait until the guest stops by itself. A small thread in
// the worker reads invocation ids from a pipe the pool writes to and flags them in shared memory,
// which the QuickJS interrupt handler reads without the event loop.
import type { Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';

/** The worker's stdio index of the pipe (0-2 are inherited, 3 is IPC). */
export const DOORBELL_FD = 4;

// Slot `id % SLOTS` holds the last cancelled id that maps to it: a later cancellation can only
// overwrite an older one's flag (that invocation then falls back to IPC and the pool's grace kill).
const SLOTS = 4096;

const THREAD = `
const { workerData } = require('node:worker_threads');
const { Socket } = require('node:net');
const flags = new Int32Array(workerData.buffer);
let pending = '';
const pipe = new Socket({ fd: workerData.fd, readable: true, writable: false });
pipe.setEncoding('utf8');
pipe.on('error', () => {});
pipe.on('data', (chunk) => {
  pending += chunk;
  for (let end = pending.indexOf('\\n'); end !== -1; end = pending.indexOf('\\n')) {
    const id = Number(pending.slice(0, end));
    pending = pending.slice(end + 1);
    if (Number.isSafeInteger(id)) Atomics.store(flags, id % flags.length, id | 0);
  }
});
`;

/** Worker side: starts the reader thread; returns whether `id` has been cancelled through the pipe. */
export function listenForCancellations(fd = DOORBELL_FD): (id: number) => boolean {
  const buffer = new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT);
  const flags = new Int32Array(buffer);
  const thread = new Worker(THREAD, { eval: true, workerData: { buffer, fd } });
  // Without the pipe (a worker started by hand) cancellation still arrives over IPC.
  thread.on('error', () => {});
  thread.unref();
  return (id) => Atomics.load(flags, id % SLOTS) === (id | 0);
}

/** Pool side: asks the worker behind `pipe` to stop invocation `id`. */
export function ringCancellation(pipe: Writable | null | undefined, id: number): void {
  if (pipe && !pipe.destroyed) pipe.write(`${id}\n`);
}
