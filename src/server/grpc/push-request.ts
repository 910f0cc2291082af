import { z } from 'zod';
import { clientIdSchema, commandSchema, type VaultCommand } from '../../domain/commands.js';
import { LIMITS } from '../../domain/limits.js';
import type { PushRequest } from '../../gen/keeper/v1/vault.js';
import { mutationFromWire } from '../../wire/mutations.js';

const pushSchema = z.object({
  expectedVersion: z.number().int().nonnegative(),
  clientId: clientIdSchema,
  mutations: z
    .array(z.unknown())
    .min(1, 'a push needs at least one mutation')
    .max(LIMITS.mutationsPerPushMax, `at most ${LIMITS.mutationsPerPushMax} mutations per push`)
    .transform((list, ctx) => {
      const commands: VaultCommand[] = [];
      list.forEach((candidate, index) => {
        const result = commandSchema.safeParse(candidate);
        if (!result.success) {
          const isMissing = (candidate as { type?: unknown }).type === undefined;
          const issue = result.error.issues[0]!;
          ctx.addIssue({
            code: 'custom',
            path: isMissing ? [index, 'change'] : [index, ...issue.path],
            message: isMissing ? 'must be one of create, update, delete, restore, setVaultKey' : issue.message,
          });
        } else commands.push(result.data);
      });
      const ids = new Set<string>();
      commands.forEach((command, index) => {
        if (ids.has(command.mutationId)) ctx.addIssue({ code: 'custom', path: [index, 'mutationId'], message: 'is repeated in this push' });
        ids.add(command.mutationId);
      });
      return commands;
    }),
});

/** `userId` is the caller: a vault key envelope must be made for them (its AAD binds it to them). */
export function parsePushRequest(request: PushRequest, userId: string): { expectedVersion: number; clientId: string; commands: VaultCommand[] } {
  const parsed = pushSchema.parse({
    expectedVersion: request.expectedVersion,
    clientId: request.clientId,
    mutations: request.mutations.map(mutationFromWire),
  });
  const foreign = parsed.mutations.findIndex(
    (command) => command.type === 'SetVaultKey' && canonicalUserId((JSON.parse(command.envelope) as { userId: string }).userId) !== canonicalUserId(userId),
  );
  if (foreign >= 0) {
    throw new z.ZodError([{ code: 'custom', path: ['mutations', foreign, 'envelope', 'userId'], message: 'must be the id of the user pushing it', input: undefined }]);
  }
  return { expectedVersion: parsed.expectedVersion, clientId: parsed.clientId || 'unknown', commands: parsed.mutations };
}

const canonicalUserId = (id: string): string => id.toLowerCase();
