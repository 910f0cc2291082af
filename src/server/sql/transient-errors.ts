import type { Logger } from 'pino';

/**
 * Database failures that say nothing about the request: the connection went away, the server is
 * restarting or full, or the transaction lost a race. Running the same call again is safe and
 * likely to work (pushes are idempotent by mutation id), so clients hear UNAVAILABLE, not INTERNAL.
 */
const TRANSIENT_SQLSTATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '53300', // too_many_connections
  '55P03', // lock_not_available (lock_timeout)
  '57014', // query_canceled (statement_timeout)
  '57P01', // admin_shutdown (pg_terminate_backend, a restart)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, in recovery)
  '25P03', // idle_in_transaction_session_timeout
]);

const TRANSIENT_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EVENTSTORE_UNAVAILABLE']);

/** What node-postgres and pg-pool say when a connection is lost or cannot be had in time. */
const TRANSIENT_MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect/,
  /not queryable/,
  /^Query read timeout/,
];

export function isTransientDatabaseError(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (TRANSIENT_SQLSTATES.has(code) || code.startsWith('08') || TRANSIENT_ERRNO.has(code))) return true;
    if (TRANSIENT_MESSAGES.some((pattern) => pattern.test(current.message))) return true;
  }
  return false;
}

/** The part of a transient fault that is safe to log: its code and driver message, never a query or its parameters. */
export function describeTransientFault(error: unknown): { code?: string; reason: string } {
  const code = (error as { code?: unknown } | undefined)?.code;
  return { ...(typeof code === 'string' ? { code } : {}), reason: error instanceof Error ? error.message.slice(0, 200) : String(error).slice(0, 200) };
}

/**
 * The failure handler of a retried path (the projector, the session check): a transient database
 * fault was already reported by the database's outage log and is retried, so only other failures
 * are logged here.
 */
export function logUnlessTransient(logger: Logger, message: string, level: 'warn' | 'error' = 'error'): (error: unknown) => void {
  return (error) => {
    if (!isTransientDatabaseError(error)) logger[level]({ err: error }, message);
  };
}
