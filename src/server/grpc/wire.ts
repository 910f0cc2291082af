import { z } from 'zod';
import { clientIdSchema, commandSchema, type VaultCommand } from '../../domain/commands.js';
import { LIMITS } from '../../domain/limits.js';
import type { Mutation, PushRequest, Record as WireRecord } from '../../gen/keeper/v1/vault.js';
import type { VaultRecord } from '../../domain/record.js';
import type { ImageState, RenditionInfo } from '../../domain/images.js';
import type { Image as WireImage, RenditionInfo as WireRendition } from '../../gen/keeper/v1/images.js';

/** Proto mutation -> domain command, before validation. */
function mutationToCandidate(mutation: Mutation): unknown {
  const change = mutation.change;
  switch (change?.$case) {
    case 'create': {
      const { conflictOf, ...rest } = change.value;
      return { type: 'CreateRecord', mutationId: mutation.mutationId, ...rest, conflictOf: conflictOf || undefined };
    }
    case 'restore':
      return { type: 'RestoreRecord', mutationId: mutation.mutationId, ...change.value };
    case 'setVaultKey':
      return {
        type: 'SetVaultKey',
        mutationId: mutation.mutationId,
        keyId: change.value.keyId,
        replacesKeyId: change.value.replacesKeyId || null,
        envelope: change.value.envelope,
      };
    case 'update': {
      const { recordId, name, kind, setFields, removeFields } = change.value;
      return { type: 'UpdateRecord', mutationId: mutation.mutationId, recordId, name, kind, setFields, removeFields };
    }
    case 'delete':
      return { type: 'DeleteRecord', mutationId: mutation.mutationId, recordId: change.value.recordId };
    default:
      return { type: undefined, mutationId: mutation.mutationId };
  }
}

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
    mutations: request.mutations.map(mutationToCandidate),
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

export function recordToWire(record: VaultRecord): WireRecord {
  return {
    id: record.id,
    kind: record.kind,
    name: record.name,
    fields: record.fields,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    version: record.version,
    conflictOf: record.conflictOf ?? '',
  };
}

export function imageToWire(image: ImageState): WireImage {
  return {
    id: image.id,
    recordId: image.recordId,
    fileName: image.fileName,
    original: renditionToWire(image.original),
    encrypted: image.encrypted,
    status: image.status,
    cover: image.cover ? renditionToWire(image.cover) : undefined,
    compact: image.compact ? renditionToWire(image.compact) : undefined,
    failure: image.failure ?? '',
    createdAt: image.createdAt,
    version: image.version,
  };
}

function renditionToWire(info: RenditionInfo): WireRendition {
  return { sha256: info.address, type: info.type, width: info.width, height: info.height, size: info.size };
}
