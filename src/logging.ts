import pino, { type Logger } from 'pino';

/** Structured logs to stderr, quiet (warn) unless asked; secrets are redacted wherever they appear. */
export function createLogger(level: string, name: string): Logger {
  return pino(
    {
      name,
      level,
      redact: {
        paths: ['password', '*.password', 'accessToken', '*.accessToken', 'refreshToken', '*.refreshToken', 'tokenKey', '*.tokenKey', 'authorization'],
        censor: '[redacted]',
      },
    },
    pino.destination(2),
  );
}
