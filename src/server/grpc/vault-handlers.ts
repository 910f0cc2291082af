import type { ServerWritableStream } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { VaultServiceServer, PullRequest, PullResponse } from '../../gen/keeper/v1/vault.js';
import type { VaultService } from '../vault/vault-service.js';
import { NotAuthenticated, toGrpcStatus } from './errors.js';
import { unary } from './unary.js';
import { VERIFIED_USER_KEY } from './auth-interceptor.js';
import { parsePushRequest, recordToWire } from './wire.js';

const pullSchema = z.object({ sinceVersion: z.number().int().nonnegative() });

/** The user the interceptor verified; a call without one never reaches here, but check anyway. */
function userOf(call: { metadata: { get(key: string): unknown[] } }): string {
  const userId = call.metadata.get(VERIFIED_USER_KEY)[0];
  if (typeof userId !== 'string' || !userId) throw new NotAuthenticated();
  return userId;
}

export function vaultHandlers(vault: VaultService, logger: Logger): VaultServiceServer {
  return {
    status: unary(logger, async (call) => vault.status(userOf(call))),
    list: unary(logger, async (call) => {
      const snapshot = await vault.list(userOf(call));
      return {
        version: snapshot.version,
        lastModifiedAt: snapshot.lastModifiedAt,
        records: snapshot.records.map(recordToWire),
        vaultKey: snapshot.vaultKey ?? undefined,
      };
    }),
    push: unary(logger, async (call) => {
      const userId = userOf(call);
      const outcome = await vault.push(userId, parsePushRequest(call.request));
      return outcome.kind === 'accepted'
        ? { result: { $case: 'accepted', value: { version: outcome.version, duplicate: outcome.duplicate } } }
        : { result: { $case: 'conflict', value: { currentVersion: outcome.currentVersion } } };
    }),
    pull: (call: ServerWritableStream<PullRequest, PullResponse>) => {
      const run = async () => {
        const userId = userOf(call);
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

function drained(call: ServerWritableStream<PullRequest, PullResponse>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      call.off('drain', done);
      call.off('cancelled', done);
      resolve();
    };
    call.on('drain', done);
    call.on('cancelled', done);
  });
}
