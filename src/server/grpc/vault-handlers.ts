import type { ServerWritableStream } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { VaultServiceServer, PullRequest, PullResponse } from '../../gen/keeper/v1/vault.js';
import type { VaultService } from '../vault/vault-service.js';
import { toGrpcStatus } from './errors.js';
import { unary } from './unary.js';
import { drained } from './drained.js';
import { verifiedUser } from './auth-interceptor.js';
import { imageToWire, parsePushRequest, recordToWire } from './wire.js';

const pullSchema = z.object({ sinceVersion: z.number().int().nonnegative() });


export function vaultHandlers(vault: VaultService, logger: Logger): VaultServiceServer {
  return {
    status: unary(logger, async (call) => vault.status(verifiedUser(call))),
    list: unary(logger, async (call) => {
      const snapshot = await vault.list(verifiedUser(call));
      return {
        version: snapshot.version,
        lastModifiedAt: snapshot.lastModifiedAt,
        records: snapshot.records.map(recordToWire),
        images: snapshot.images.map(imageToWire),
        vaultKey: snapshot.vaultKey ?? undefined,
      };
    }),
    push: unary(logger, async (call) => {
      const userId = verifiedUser(call);
      const outcome = await vault.push(userId, parsePushRequest(call.request, userId));
      return outcome.kind === 'accepted'
        ? { result: { $case: 'accepted', value: { version: outcome.version, duplicate: outcome.duplicate } } }
        : { result: { $case: 'conflict', value: { currentVersion: outcome.currentVersion } } };
    }),
    pull: (call: ServerWritableStream<PullRequest, PullResponse>) => {
      const run = async () => {
        const userId = verifiedUser(call);
        const { sinceVersion } = pullSchema.parse(call.request);
        await vault.pull(userId, sinceVersion, async (events, toVersion) => {
          if (call.cancelled) throw Object.assign(new Error('cancelled'), { cancelled: true });
          const message: PullResponse = {
            toVersion,
            events: events.map((event) => ({
              id: event.id,
              type: event.type,
              version: event.version,
              recordId: String(event.metadata.recordId ?? ''),
              clientId: String(event.metadata.clientId ?? ''),
              at: Number(event.metadata.at ?? 0),
              data: JSON.stringify(event.data),
            })),
          };
          // Respect HTTP/2 flow control: wait for the client to drain before the next batch.
          if (!call.write(message)) await drained(call);
        });
        call.end();
      };
      run().catch((error: unknown) => {
        if ((error as { cancelled?: boolean }).cancelled) return;
        const grpcStatus = toGrpcStatus(error, logger);
        call.emit('error', Object.assign(new Error(grpcStatus.details), grpcStatus));
      });
    },
  };
}
