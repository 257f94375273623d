/** A writable text stream as the CLI uses it (process.stdout, or a buffer in tests). */
export interface OutputStream {
  write(text: string): unknown;
  /** True when a terminal is attached (enables colours and aligned tables for humans). */
  isTTY?: boolean;
}

/** Everything the CLI touches outside itself, injectable for tests. */
export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  env: Readonly<Record<string, string | undefined>>;
  /** Directory the config search starts from. */
  cwd: string;
  /**
   * Subscribes to SIGINT/SIGTERM for the duration of a command; returns the unsubscribe.
   * Default: the process's signals.
   */
  onSignal?: (listener: (signal: 'SIGINT' | 'SIGTERM') => void) => () => void;
}

/** The real process's streams, environment and signals. */
export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    onSignal(listener) {
      const onInt = () => listener('SIGINT');
      const onTerm = () => listener('SIGTERM');
      process.on('SIGINT', onInt);
      process.on('SIGTERM', onTerm);
      return () => {
        process.off('SIGINT', onInt);
        process.off('SIGTERM', onTerm);
      };
    },
  };
}
