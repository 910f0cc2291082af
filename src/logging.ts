import { format } from 'node:util';
import { setLogger } from '@grpc/grpc-js';
import pino, { type Logger } from 'pino';

/**
 * What an error becomes in a log line. Built field by field from the error, never by copying it:
 * database drivers hang the statement's parameters (PGlite: `params`), the failing row (pg:
 * `detail`), the statement and file paths on their errors, and any of those can hold a user's
 * password, token or field value.
 */
export interface LoggedError {
  type: string;
  message: string;
  /** SQLSTATE, Node error code or our own code: what went wrong, never with what. */
  code?: string;
  /** Stack frames only (its first line is the message, which is scrubbed above). */
  stack?: string;
  cause?: LoggedError;
}

/**
 * Quoted text in a message is where drivers and Node put the value they choked on (`invalid input
 * syntax for type integer: "..."`, `Key (login)=(...)`, `open '/path'`), so it is cut out: from
 * the first quote to the last, since the value itself may hold quotes.
 */
export function scrubMessage(message: string): string {
  return message
    .replace(/"[\s\S]*"/, '"…"')
    .replace(/'[\s\S]*'/, "'…'")
    .replace(/=\([\s\S]*\)/, '=(…)')
    .slice(0, 500);
}

const CODE = /^[A-Za-z0-9_.-]{1,40}$/;

export function loggedError(error: unknown, depth = 0): LoggedError {
  if (!(error instanceof Error)) return { type: typeof error, message: '(not an Error; not logged)' };
  const logged: LoggedError = { type: error.constructor?.name || error.name || 'Error', message: scrubMessage(String(error.message)) };
  const code = (error as { code?: unknown }).code;
  if ((typeof code === 'string' && CODE.test(code)) || typeof code === 'number') logged.code = String(code);
  if (typeof error.stack === 'string') {
    const frames = error.stack.split('\n').filter((line) => /^\s+at /.test(line));
    if (frames.length) logged.stack = frames.join('\n');
  }
  if (error.cause !== undefined && depth < 3) logged.cause = loggedError(error.cause, depth + 1);
  return logged;
}

/** Keys whose values are secret or user data wherever they appear in a logged object. */
const SECRET_KEYS = new Set(
  [
    'password',
    'newPassword',
    'secret',
    'token',
    'accessToken',
    'refreshToken',
    'tokenKey',
    'authorization',
    'cookie',
    'envelope',
    'value',
    'values',
    'fields',
    'setFields',
    'tags',
    'params',
    'parameters',
    'detail',
    'query',
    'text',
    'request',
    'metadata',
  ].map((key) => key.toLowerCase()),
);

const REDACTED = '[redacted]';

/** Keys whose values are an error's words (an outage's reason, say): scrubbed like a message. */
const FREE_TEXT_KEYS = new Set(['reason', 'message', 'error']);

/**
 * Every object handed to the logger passes through here: errors become LoggedError wherever they
 * sit, secret keys are redacted at any depth, and nothing deeper than a few levels is kept.
 */
function safeLogObject(value: unknown, depth = 0): unknown {
  if (value instanceof Error) return loggedError(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= 4) return '[nested]';
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  if (Array.isArray(value)) return value.slice(0, 50).map((item) => safeLogObject(item, depth + 1));
  const safe: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (SECRET_KEYS.has(key.toLowerCase())) safe[key] = REDACTED;
    else if (typeof item === 'string' && FREE_TEXT_KEYS.has(key.toLowerCase())) safe[key] = scrubMessage(item);
    else safe[key] = safeLogObject(item, depth + 1);
  }
  return safe;
}

const keepSafe = (value: unknown): unknown => (value instanceof Error ? loggedError(value) : value);

/**
 * Structured logs to stderr (or to a file, for processes that own the terminal, like the TUI),
 * quiet (warn) unless asked. No log line carries a password, token, field value or query
 * parameter, at any level: see safeLogObject and loggedError.
 */
export function createLogger(level: string, name: string, file?: string): Logger {
  return pino(
    {
      name,
      level,
      // formatters.log has already made errors safe; pino's default err serializer would rebuild
      // them from every enumerable property, so these only make sure of it.
      serializers: { err: keepSafe, error: keepSafe, cause: keepSafe },
      formatters: { log: (object) => safeLogObject(object) as Record<string, unknown> },
    },
    file === undefined ? pino.destination(2) : pino.destination({ dest: file, mkdir: true, sync: true }),
  );
}

/**
 * grpc-js prints its own lines on stderr (for example before a failed listen, whose error the
 * caller reports anyway). A process routes them into its structured log instead, at debug.
 */
export function captureGrpcLogs(logger: Logger): void {
  setLogger({ error: (...args: unknown[]) => logger.debug({ component: 'grpc-js' }, scrubMessage(format(...args))) });
}
