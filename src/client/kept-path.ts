import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';

/** A server setting as a file name: the characters a file name may hold, others as `_`. */
function fileNameOf(server: string): string {
  return server.replace(/[^A-Za-z0-9.-]/g, '_');
}

/**
 * One server however it was written: host names in any case, and replicas in any order, are
 * the same servers, so `--server b:7070,a:7070` finds what `--server a:7070,b:7070` kept.
 */
export function canonicalServer(server: string): string {
  const items = server.toLowerCase().split(',').map((item) => item.trim());
  return items.length > 1 ? [...new Set(items)].sort().join(',') : items[0]!;
}

/**
 * Where a client keeps a file of one server (its session, replica cache, unlocked key): named by
 * the server as `canonicalServer` writes it. A file kept under the name earlier versions gave
 * (the setting exactly as typed) is moved there on first use, pending edits in it included.
 */
export function keptPath(home: string, folder: string, server: string, rest: string): string {
  const path = join(home, folder, `${fileNameOf(canonicalServer(server))}${rest}`);
  const earlier = join(home, folder, `${fileNameOf(server)}${rest}`);
  if (earlier !== path && !existsSync(path) && existsSync(earlier)) {
    try {
      renameSync(earlier, path);
    } catch {
      // Another process moved it first, or the folder is read-only: the earlier name still serves.
      if (!existsSync(path)) return earlier;
    }
  }
  return path;
}
