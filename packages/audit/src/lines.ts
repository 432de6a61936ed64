import { StringDecoder } from 'node:string_decoder';

/**
 * Splits a stream of text or bytes (e.g. fs.createReadStream) into lines without their "\n",
 * decoding UTF-8 across chunk boundaries. A final line without "\n" is yielded too.
 */
export async function* splitLines(
  chunks: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  for await (const chunk of chunks) {
    pending +=
      typeof chunk === 'string'
        ? chunk
        : decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    let start = 0;
    let end = pending.indexOf('\n', start);
    while (end !== -1) {
      yield pending.slice(start, end);
      start = end + 1;
      end = pending.indexOf('\n', start);
    }
    pending = pending.slice(start);
  }
  pending += decoder.end();
  if (pending.length > 0) yield pending;
}

/** Appends "\n" to each line, e.g. `Readable.from(withNewlines(writeExport(input)))`. */
export async function* withNewlines(
  lines: AsyncIterable<string> | Iterable<string>,
): AsyncGenerator<string> {
  for await (const line of lines) yield `${line}\n`;
}
