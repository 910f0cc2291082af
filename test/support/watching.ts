import { randomUUID } from 'node:crypto';
import type { KeeperClient } from '../../src/client/keeper-client.js';
import type { VaultVersion, WatchOptions } from '../../src/client/version-watch.js';
import { createMutation } from '../../src/wire/mutations.js';
import { eventually } from './eventually.js';

export const PASSWORD = 'correct horse battery';

/** A client's watch, with everything it was told. */
export interface Watching {
  seen: VaultVersion[];
  errors: unknown[];
  retries: unknown[];
  /** Resolves with the first version told at or above `version`; fails after `timeoutMs`. */
  reaches(version: number, timeoutMs?: number): Promise<VaultVersion>;
  close(): void;
}

export function watching(client: KeeperClient, options: Omit<WatchOptions, 'onError' | 'onRetry'> = {}): Watching {
  const seen: VaultVersion[] = [];
  const errors: unknown[] = [];
  const retries: unknown[] = [];
  const watch = client.watch((version) => seen.push(version), { ...options, onError: (error) => errors.push(error), onRetry: (error) => retries.push(error) });
  return {
    seen,
    errors,
    retries,
    reaches: (version, timeoutMs = 2_000) => eventually(`a watched version of ${version} or more`, () => seen.find((told) => told.version >= version), timeoutMs),
    close: () => watch.close(),
  };
}

/** One new note pushed at `expectedVersion`; answers the version it made. */
export async function pushNote(client: KeeperClient, expectedVersion: number): Promise<number> {
  const response = await client.push({
    expectedVersion,
    clientId: 'watch-test',
    mutations: [createMutation({ kind: 'note', name: `note ${randomUUID().slice(0, 8)}`, fields: [] })],
  });
  if (response.result?.$case !== 'accepted') throw new Error(`the push was not accepted: ${JSON.stringify(response.result)}`);
  return response.result.value.version;
}
