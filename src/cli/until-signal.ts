/** Resolves when the process is asked to stop (Ctrl-C or a service manager's TERM). */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      // A second Ctrl-C while stopping means "now": exit without waiting for a clean stop.
      if (stopping) process.exit(130);
      stopping = true;
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
