import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** A config problem worth one sentence to the user, never a stack trace. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * A service a setting points at cannot be reached now (the setting may well be right and the
 * service down): one sentence naming the setting; the CLI exits 6 for it.
 */
export class ServiceUnreachable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServiceUnreachable';
  }
}

/** Reads a file a setting names (a TLS certificate, key or CA), or says which setting and why not. */
export function readSettingFile(path: string, setting: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new ConfigError(`invalid configuration: ${setting} ${path} cannot be read (${reason})`);
  }
}

/**
 * Parses `values` (already merged from flags over KEEPER_* env) with `schema`, turning every
 * issue into a sentence naming the setting as the user would type it.
 */
export function parseConfig<T extends z.ZodType>(
  schema: T,
  values: Record<string, unknown>,
  names: Record<string, string>,
  secrets: ReadonlySet<string> = new Set(),
): z.infer<T> {
  // Parsed once per process: zod's compiled fast path (code generated per object schema) costs
  // more to make than it saves on one object.
  const result = schema.safeParse(values, { jitless: true });
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const key = String(issue.path[0] ?? '');
    const name = names[key] ?? key;
    const given = values[key];
    const shown = given === undefined || secrets.has(key) ? '' : ` (got "${String(given)}")`;
    return `${name}${shown}: ${issue.message}`;
  });
  throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
}

/** Flag value first, then the environment variable, then undefined (the schema's default applies). */
export function pick(flags: Record<string, unknown>, env: NodeJS.ProcessEnv, flag: string, envName: string): unknown {
  const fromFlag = flags[flag];
  if (fromFlag !== undefined) return fromFlag;
  const fromEnv = env[envName];
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}

export const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:7070');

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

/**
 * Where a client finds the server: one host:port, several of them separated by commas (replicas
 * the client balances over), or a DNS name whose every address is a replica (`dns:///name:port`).
 * Blanks around the commas are dropped, so the value is the same whoever typed it.
 */
export const serverTarget = z
  .string()
  .transform((value) => value.split(',').map((item) => item.trim()).join(','))
  .refine(
    (value) => {
      if (value.startsWith('dns:')) return /^dns:\/\/\/[A-Za-z0-9.-]+:\d{1,5}$/.test(value);
      const items = value.split(',');
      return items.every((item) => HOST_PORT.test(item)) && new Set(items).size === items.length;
    },
    { message: 'must be host:port, several distinct host:port separated by commas, or dns:///name:port, e.g. 127.0.0.1:7070' },
  );

/** A yes/no setting: 1, true, yes or 0, false, no (a flag without a value is true). */
export const booleanFlag = z
  .preprocess((value) => (typeof value === 'boolean' ? String(value) : value), z.enum(['1', 'true', 'yes', '0', 'false', 'no'], { message: 'must be true or false' }))
  .optional()
  .transform((value) => value === '1' || value === 'true' || value === 'yes');

/** A comma-separated list; blanks and empty items are dropped. */
export const commaList = z
  .string()
  .optional()
  .transform((value) => (value ?? '').split(',').map((item) => item.trim()).filter((item) => item.length > 0));

export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('warn');

export function splitHostPort(value: string): { host: string; port: number } {
  const index = value.lastIndexOf(':');
  const host = value.slice(0, index).replace(/^\[(.*)\]$/, '$1');
  const port = Number(value.slice(index + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`port in "${value}" must be between 0 and 65535`);
  return { host, port };
}
