import type { Logger } from 'pino';
import { z } from 'zod';
import type { VaultServiceServer, ListRequest, ListResponse, PullRequest, PullResponse, Event as WireEvent, Record as WireRecord } from '../../gen/keeper/v1/vault.js';
import type { Image as WireImage } from '../../gen/keeper/v1/images.js';
import { pageBytesFor } from '../../domain/limits.js';
import type { SnapshotHead } from '../../read-model/read-model.js';
import type { VaultService } from '../vault/vault-service.js';
import type { VersionWatches } from '../watch/version-watches.js';
import { unary } from './unary.js';
import { serverStream } from './server-stream.js';
import type { OutgoingScheduler } from './outgoing-scheduler.js';
import { verifiedUser, type AccessVerifier } from './auth-interceptor.js';
import { watchHandler } from './watch-handler.js';
import { parsePushRequest } from './push-request.js';
import { eventToWire } from '../../wire/events.js';
import { imageToWire } from '../../wire/images.js';
import { recordToWire } from '../../wire/records.js';
import { eventWireBytes, headWireBytes, imageWireBytes, Pages, recordWireBytes } from './pages.js';

const pageBytes = z.number().int().nonnegative();
const listSchema = z.object({ pageBytes });
const pullSchema = z.object({ sinceVersion: z.number().int().nonnegative(), pageBytes });

type ListEntry = { record: WireRecord } | { image: WireImage };

export function vaultHandlers(vault: VaultService, watches: VersionWatches, access: AccessVerifier, logger: Logger, out: OutgoingScheduler): VaultServiceServer {
  return {
    watch: watchHandler(watches, access, logger, out),
    status: unary(logger, async (call) => vault.status(verifiedUser(call))),
    list: serverStream<ListRequest, ListResponse>(logger, out, async (call, send) => {
      const userId = verifiedUser(call);
      const budget = pageBytesFor(listSchema.parse(call.request).pageBytes);
      let head: SnapshotHead | undefined;
      let pages: Pages<ListEntry> | undefined;
      let sent = 0;
      const sendPage = async (entries: ListEntry[]) => {
        const message: ListResponse = { version: head!.version, lastModifiedAt: head!.lastModifiedAt, records: [], images: [], vaultKey: undefined };
        if (sent++ === 0 && head!.vaultKey) message.vaultKey = head!.vaultKey;
        for (const entry of entries) {
          if ('record' in entry) message.records.push(entry.record);
          else message.images.push(entry.image);
        }
        await send(message);
      };
      for await (const part of vault.listParts(userId)) {
        head = part.head;
        pages ??= new Pages<ListEntry>(budget, headWireBytes(head.vaultKey ?? undefined));
        const entries: Array<[ListEntry, number]> =
          'records' in part
            ? part.records.map((record) => {
                const wire = recordToWire(record);
                return [{ record: wire }, recordWireBytes(wire)];
              })
            : part.images.map((image) => {
                const wire = imageToWire(image);
                return [{ image: wire }, imageWireBytes(wire)];
              });
        for (const [entry, size] of entries) {
          const full = pages.add(entry, size);
          if (full) await sendPage(full);
        }
      }
      const rest = pages?.take() ?? [];
      // An empty vault is one page with its version and nothing else.
      if (rest.length > 0 || sent === 0) await sendPage(rest);
    }),
    push: unary(logger, async (call) => {
      const userId = verifiedUser(call);
      const outcome = await vault.push(userId, parsePushRequest(call.request, userId));
      return outcome.kind === 'accepted'
        ? { result: { $case: 'accepted', value: { version: outcome.version, duplicate: outcome.duplicate } } }
        : { result: { $case: 'conflict', value: { currentVersion: outcome.currentVersion } } };
    }),
    pull: serverStream<PullRequest, PullResponse>(logger, out, async (call, send) => {
      const userId = verifiedUser(call);
      const request = pullSchema.parse(call.request);
      const pages = new Pages<WireEvent>(pageBytesFor(request.pageBytes), headWireBytes());
      await vault.pull(userId, request.sinceVersion, async (events, toVersion) => {
        for (const event of events) {
          const wire = eventToWire(event);
          const full = pages.add(wire, eventWireBytes(wire));
          if (full) await send({ toVersion, events: full });
        }
        // What this read left goes out now rather than with the next read: the client works on
        // it while the server reads on.
        const rest = pages.take();
        if (rest.length > 0) await send({ toVersion, events: rest });
      });
    }),
  };
}
