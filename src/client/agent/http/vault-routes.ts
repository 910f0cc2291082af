import { failureOf } from '../../core/failures.js';
import { checkLimit, failedAttempt, goodAttempt, type LimitedKey } from '../../core/attempt-limits.js';
import { callerOf, type AgentApp, type AgentContext } from './context.js';
import { problemAnswer, statusAnswer, syncAnswer, unlockBody } from './schemas.js';
import { syncViewOf } from './views.js';
import { z } from 'zod';

const problems = { 400: problemAnswer, 401: problemAnswer, 403: problemAnswer, 423: problemAnswer, 429: problemAnswer, 503: problemAnswer };

/** The vault as a whole: status, sync now, unlock and lock. */
export function vaultRoutes(app: AgentApp, context: AgentContext): void {
  app.get('/v1/status', { schema: { summary: 'server, versions, changes waiting, lock state', tags: ['vault'], response: { 200: statusAnswer, ...problems } } }, async (request) => {
    const { user } = callerOf(context, request);
    const handle = await user.vault();
    user.refreshSoon();
    return {
      server: context.server,
      userId: user.userId,
      login: user.login,
      encrypted: handle.vault.encrypted,
      unlocked: handle.vault.unlocked,
      records: handle.vault.records().length,
      idleLockSeconds: Math.round((context.idleLockMs ?? 15 * 60_000) / 1000),
      sync: syncViewOf(user, handle),
    };
  });

  app.post('/v1/sync', { schema: { summary: 'pull, rebase and push now', tags: ['vault'], response: { 200: syncAnswer, ...problems } } }, async (request) => {
    const { user } = callerOf(context, request);
    const handle = await user.vault();
    const outcome = await user.syncNow();
    // Asked to sync and could not: that is the answer (the replica still serves reads, marked stale).
    if (!outcome.online) throw outcome.failure;
    const report = outcome.report;
    return {
      online: true,
      pulled: report.pulled,
      pushed: report.pushed,
      conflicts: report.conflicts.length,
      changed: report.changed,
      sync: syncViewOf(user, handle),
    };
  });

  app.post('/v1/unlock', { schema: { summary: 'unlock an encrypted vault with the secret word (decryption happens in the agent)', tags: ['vault'], body: unlockBody, response: { 204: z.null(), ...problems } } }, async (request, reply) => {
    const { user } = callerOf(context, request);
    const keys: LimitedKey[] = [
      [context.limits.unlockPerUser, user.userId],
      [context.limits.unlockPerCaller, request.ip],
    ];
    checkLimit(keys);
    try {
      await user.unlock(request.body.secret);
      goodAttempt(keys.slice(0, 1));
    } catch (error) {
      const failure = failureOf(error);
      if (failure.kind === 'wrong-secret') failedAttempt(keys);
      throw failure;
    }
    return reply.code(204).send(null);
  });

  app.post('/v1/lock', { schema: { summary: 'lock: the vault key and every decrypted value are wiped from the agent', tags: ['vault'], response: { 204: z.null(), ...problems } } }, async (request, reply) => {
    const { user } = callerOf(context, request);
    await user.lock();
    return reply.code(204).send(null);
  });
}
