import { rm } from 'node:fs/promises';
import { readFileIfExists, writeFileAtomic } from '../../lib/atomic-file.js';
import { protectKeyForSession, recoverKeyFromSession, type VaultKey } from '../crypto/index.js';
import { keptPath } from '../kept-path.js';

/**
 * `keeper unlock` keeps the vault key for later commands the way `bw unlock` does: the key is
 * stored encrypted under a random session secret that is printed once for KEEPER_SESSION, so the
 * file alone is useless and `keeper lock` (deleting it) ends every session at once.
 */
function path(home: string, server: string, userId: string): string {
  return keptPath(home, 'unlocked', server, `-${userId}.key`);
}

export async function saveUnlockedKey(home: string, server: string, userId: string, key: VaultKey): Promise<string> {
  const { sessionSecret, protectedKey } = protectKeyForSession(key);
  await writeFileAtomic(path(home, server, userId), protectedKey, 0o600);
  return sessionSecret;
}

/** The key of an unlocked session, or undefined (no session, or it was locked): then the secret word is asked. */
export async function loadUnlockedKey(home: string, server: string, userId: string, sessionSecret: string | undefined): Promise<VaultKey | undefined> {
  if (!sessionSecret) return undefined;
  const protectedKey = await readFileIfExists(path(home, server, userId));
  if (!protectedKey) return undefined;
  try {
    return recoverKeyFromSession(protectedKey, sessionSecret);
  } catch {
    return undefined;
  }
}

export async function forgetUnlockedKey(home: string, server: string, userId: string): Promise<boolean> {
  const file = path(home, server, userId);
  const existed = (await readFileIfExists(file)) !== undefined;
  await rm(file, { force: true });
  return existed;
}
