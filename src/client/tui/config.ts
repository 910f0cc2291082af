import { z } from 'zod';
import { parseConfig, pick } from '../../config/env.js';

/** setTimeout cannot wait longer than about 24 days; a week of idling is plenty. */
const MAX_AUTO_LOCK_SECONDS = 7 * 24 * 3600;

const schema = z.object({
  autoLockSeconds: z
    .string()
    .regex(/^\d+$/, 'must be a whole number of seconds (0 turns auto-lock off)')
    .transform(Number)
    .refine((seconds) => seconds <= MAX_AUTO_LOCK_SECONDS, `must be at most ${MAX_AUTO_LOCK_SECONDS} (a week)`)
    .default(15 * 60),
  syncSeconds: z
    .string()
    .regex(/^\d+$/, 'must be a whole number of seconds')
    .transform(Number)
    .refine((seconds) => seconds >= 1 && seconds <= 24 * 3600, 'must be between 1 and 86400')
    .default(15),
});

export interface TuiConfig {
  /** Idle time before the screen locks; 0 never locks. */
  autoLockMs: number;
  /** How often the background sync asks the server for news. */
  syncEveryMs: number;
}

const NAMES: Record<string, string> = {
  autoLockSeconds: '--auto-lock / KEEPER_AUTO_LOCK_SECONDS',
  syncSeconds: '--sync-every / KEEPER_SYNC_SECONDS',
};

/** The TUI's own settings, from its flags over KEEPER_* environment variables. */
export function loadTuiConfig(flags: { autoLock?: string | undefined; syncEvery?: string | undefined }, env: NodeJS.ProcessEnv): TuiConfig {
  const parsed = parseConfig(
    schema,
    { autoLockSeconds: pick(flags, env, 'autoLock', 'KEEPER_AUTO_LOCK_SECONDS'), syncSeconds: pick(flags, env, 'syncEvery', 'KEEPER_SYNC_SECONDS') },
    NAMES,
  );
  return { autoLockMs: parsed.autoLockSeconds * 1000, syncEveryMs: parsed.syncSeconds * 1000 };
}
