import { format } from 'node:util';
import { setLogger } from '@grpc/grpc-js';
import pino, { type Logger } from 'pino';

/**
 * Structured logs to stderr (or to a file, for processes that own the terminal, like the TUI),
 * quiet (warn) unless asked; secrets are redacted wherever they appear.
 */
export function createLogger(level: string, name: string, file?: string): Logger {
  return pino(
    {
      name,
      level,
      redact: {
        paths: ['password', '*.password', 'accessToken', '*.accessToken', 'refreshToken', '*.refreshToken', 'tokenKey', '*.tokenKey', 'authorization'],
        censor: '[redacted]',
      },
    },
    file === undefined ? pino.destination(2) : pino.destination({ dest: file, mkdir: true, sync: true }),
  );
}

/**
 * grpc-js prints its own lines on stderr (for example before a failed listen, whose error the
 * caller reports anyway). A process routes them into its structured log instead, at debug.
 */
export function captureGrpcLogs(logger: Logger): void {
  setLogger({ error: (...args: unknown[]) => logger.debug({ component: 'grpc-js' }, format(...args)) });
}
