import { CliError, EXIT } from './exit-codes.js';
import type { SessionInfo } from '../../gen/keeper/v1/auth.js';
import type { Context } from './commands.js';
import { formatTime, table } from './format.js';
import { jsonText } from '../terminal-text.js';

/** A session id as typed: the whole id, or a prefix long enough to be one user's only match. */
const MIN_PREFIX = 8;

export async function sessionsCommand(ctx: Context, options: { json?: boolean }): Promise<void> {
  const sessions = await ctx.client.listSessions();
  if (options.json) {
    ctx.out(jsonText(sessions, 2));
    return;
  }
  ctx.out(
    table(
      ['ID', 'CLIENT', 'CREATED', 'LAST USED', ''],
      sessions.map((s) => [s.sessionId.slice(0, MIN_PREFIX), s.clientId || '-', formatTime(s.createdAt), formatTime(s.lastUsedAt), s.current ? 'this one' : '']),
    ),
  );
  ctx.out(`${sessions.length} session${sessions.length === 1 ? '' : 's'}; end one with \`keeper sessions revoke ID\`, or the others with --all-others`);
}

export async function revokeSessionsCommand(ctx: Context, id: string | undefined, options: { allOthers?: boolean }): Promise<void> {
  if (Boolean(id) === Boolean(options.allOthers)) {
    throw new CliError('give a session id (from `keeper sessions`) or --all-others, not both', EXIT.usage);
  }
  if (options.allOthers) {
    const ended = await ctx.client.revokeSessions({ allOthers: true });
    ctx.out(`ended ${ended} other session${ended === 1 ? '' : 's'}; this one goes on`);
    return;
  }
  const session = pick(await ctx.client.listSessions(), id!);
  if (session.current) {
    // Ending this very session is logging out here.
    await ctx.client.logout();
    ctx.out(`ended session ${session.sessionId.slice(0, MIN_PREFIX)}: it was this one, so you are logged out here`);
    return;
  }
  await ctx.client.revokeSessions({ sessionId: session.sessionId });
  ctx.out(`ended session ${session.sessionId.slice(0, MIN_PREFIX)}${session.clientId ? ` (${session.clientId})` : ''}`);
}

function pick(sessions: SessionInfo[], ref: string): SessionInfo {
  const needle = ref.trim().toLowerCase();
  if (needle.length < MIN_PREFIX) throw new CliError(`"${ref}": give at least ${MIN_PREFIX} characters of a session id (see \`keeper sessions\`)`, EXIT.usage);
  const matches = sessions.filter((s) => s.sessionId.startsWith(needle));
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) throw new CliError(`no session of yours matches "${ref}" (see \`keeper sessions\`)`, EXIT.notFound);
  throw new CliError(`"${ref}" matches ${matches.length} sessions; give more of the id`, EXIT.usage);
}
