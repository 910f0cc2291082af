import { ConfigError, ServiceUnreachable } from '../../config/env.js';
import { isTransientDatabaseError } from './transient-errors.js';

export const DATABASE_SETTING = '--database-url / KEEPER_DATABASE_URL';

/** The database a URL names, for a sentence: host, port and database, never the user's password. */
export function describeDatabaseUrl(url: string): string {
  const parsed = new URL(url);
  return `PostgreSQL at ${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
}

/**
 * A failure of the first connection to the configured database as one sentence naming the
 * setting: unreachable (worth trying again later), or refused for a reason the setting must fix.
 * Anything else (a bug, a broken migration) is returned unchanged.
 */
export function databaseStartupError(error: unknown, url: string): unknown {
  const where = `${DATABASE_SETTING} (${describeDatabaseUrl(url)})`;
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ENOTFOUND') return new ConfigError(`cannot connect to the database that ${where} names: its host is not known`);
  // Which of these a peer that hangs up at once causes depends on whether the startup message was
  // written before the close was seen.
  if (/^Connection terminated/.test(message) || code === 'ECONNRESET' || code === 'EPIPE') {
    return new ServiceUnreachable(`cannot connect to the database that ${where} names: the server there closed the connection during the handshake (is it PostgreSQL?)`);
  }
  if (code === 'ECONNREFUSED') return new ServiceUnreachable(`cannot connect to the database that ${where} names: connection refused (is PostgreSQL running there?)`);
  if (isTransientDatabaseError(error)) return new ServiceUnreachable(`cannot connect to the database that ${where} names: ${message}`);
  if (typeof code === 'string' && (code.startsWith('28') || code === '3D000' || code === '42501' || code === '3F000')) {
    return new ConfigError(`the database that ${where} names refused the connection: ${message}`);
  }
  if (/SSL|self.signed|certificate/i.test(message)) return new ConfigError(`cannot connect to the database that ${where} names: ${message}`);
  return error;
}
