import type { ImageRendition, ImageState } from '../../domain/images.js';
import type { Replica } from './replica.js';

/** A replica's images as last synced (offline too), and where this client saved their files. */
export class ReplicaImages {
  constructor(private readonly replica: Replica) {}

  /** The images attached to a record. */
  of(recordId: string): ImageState[] {
    return this.replica.synced.imagesOf(recordId);
  }

  /** An attached image of a live record, by id. */
  get(imageId: string): ImageState | undefined {
    const synced = this.replica.synced;
    const image = synced.images.get(imageId);
    const record = image ? synced.get(image.recordId) : undefined;
    return image && image.detachedAt === null && record && record.deletedAt === null ? image : undefined;
  }

  /** Every attached image of the live records, oldest first. */
  all(): ImageState[] {
    return [...this.replica.synced.images.values()].filter((image) => this.get(image.id) !== undefined);
  }

  /** The files this client saved of an image, by rendition. */
  filesOf(imageId: string): Partial<Record<ImageRendition, string>> {
    return { ...this.replica.imageFiles[imageId] };
  }

  /** Remembers where a rendition was saved (kept with the replica, so the link survives restarts and re-syncs). */
  link(imageId: string, rendition: ImageRendition, path: string): void {
    this.replica.imageFiles[imageId] = { ...this.replica.imageFiles[imageId], [rendition]: path };
  }
}
