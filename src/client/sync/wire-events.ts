import { toVaultEvent, type VaultEvent } from '../../domain/events.js';
import type { Event as WireEvent, Record as WireRecord } from '../../gen/keeper/v1/vault.js';
import type { RecordState } from '../../domain/decider.js';
import { recordKindSchema } from '../../domain/record.js';
import { renditionInfoSchema, type ImageState, type RenditionInfo } from '../../domain/images.js';
import type { Image as WireImage, RenditionInfo as WireRendition } from '../../gen/keeper/v1/images.js';

/** A pulled event, checked against the domain's schemas before it touches the replica. */
export function eventFromWire(event: WireEvent): VaultEvent {
  return toVaultEvent({
    id: event.id,
    type: event.type,
    version: event.version,
    data: JSON.parse(event.data) as unknown,
    metadata: { mutationId: event.id, recordId: event.recordId, clientId: event.clientId, at: event.at },
  });
}

export function recordFromWire(record: WireRecord): RecordState {
  const state: RecordState = {
    id: record.id,
    kind: recordKindSchema.parse(record.kind),
    name: record.name,
    fields: record.fields,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    version: record.version,
    deletedAt: null,
  };
  if (record.conflictOf) state.conflictOf = record.conflictOf;
  return state;
}

const IMAGE_STATUSES = new Set<ImageState['status']>(['processing', 'ready', 'failed']);

/** An image as the server lists it, checked like a pulled event. */
export function imageFromWire(image: WireImage): ImageState {
  if (!image.original) throw new Error(`image ${image.id} came without its original`);
  const status = IMAGE_STATUSES.has(image.status as ImageState['status']) ? (image.status as ImageState['status']) : 'processing';
  const state: ImageState = {
    id: image.id,
    recordId: image.recordId,
    fileName: image.fileName,
    original: renditionFromWire(image.original),
    encrypted: image.encrypted,
    status,
    createdAt: image.createdAt,
    version: image.version,
    detachedAt: null,
  };
  if (image.cover) state.cover = renditionFromWire(image.cover);
  if (image.compact) state.compact = renditionFromWire(image.compact);
  if (image.failure) state.failure = image.failure;
  return state;
}

function renditionFromWire(info: WireRendition): RenditionInfo {
  return renditionInfoSchema.parse({ address: info.sha256, type: info.type, width: info.width, height: info.height, size: info.size });
}
