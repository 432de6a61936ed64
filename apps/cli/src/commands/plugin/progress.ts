import cliProgress from 'cli-progress';

/** Named steps with one progress bar on stderr (drawn only on a terminal). */
export async function withSteps<T>(
  steps: readonly string[],
  run: (step: (name: string) => void) => Promise<T>,
): Promise<T> {
  const bar = new cliProgress.SingleBar(
    { format: ' {bar} {value}/{total} {step}', stream: process.stderr, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  bar.start(steps.length, 0, { step: steps[0] ?? '' });
  let done = 0;
  try {
    return await run((name) => {
      done = Math.min(done + 1, steps.length);
      bar.update(done, { step: name });
    });
  } finally {
    bar.stop();
  }
}
