import cliProgress from 'cli-progress';

/** A progress bar on stderr when it is a TTY; silent otherwise (pipes, CI, tests). */
export function progressBar(label: string, total: number): { update(value: number): void; stop(): void } {
  if (!process.stderr.isTTY || total <= 0) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% | {value}/{total} entries | {eta_formatted} left`, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return { update: (value) => bar.update(value), stop: () => bar.stop() };
}
