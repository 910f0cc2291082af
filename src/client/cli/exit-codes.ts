/** Exit codes of the keeper command (README lists them). */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  unauthenticated: 3,
  notFound: 4,
  conflict: 5,
  unavailable: 6,
  throttled: 7,
  /** Too large or over a limit: an image above the size limit, more fields or images than allowed. */
  tooLarge: 8,
} as const;

/** A failure already phrased for the user, with the exit code it deserves. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
