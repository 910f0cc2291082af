import { createReadStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { capped } from '../../../lib/capped-stream.js';
import { z } from 'zod';
import { IMAGE_RENDITIONS, type ImageState } from '../../../domain/images.js';
import { imageFileNameSchema } from '../../../domain/images.js';
import { KeeperFailure } from '../../core/failures.js';
import type { Spool } from '../../core/spool.js';
import type { VaultHandle } from '../../core/vault-handle.js';
import { displayFileName } from '../../images/image-transfer.js';
import { callerOf, type AgentApp, type AgentContext } from './context.js';
import { problemAnswer, recordParams } from './schemas.js';

const problems = { 400: problemAnswer, 401: problemAnswer, 404: problemAnswer, 409: problemAnswer, 413: problemAnswer, 423: problemAnswer, 503: problemAnswer };

const imageView = z.object({
  id: z.string(),
  recordId: z.string(),
  fileName: z.string().nullable().describe('null when the name is sealed and the vault locked'),
  type: z.string(),
  size: z.number().int(),
  width: z.number().int(),
  height: z.number().int(),
  status: z.enum(['processing', 'ready', 'failed']).describe('whether the cover and compact copies are made yet'),
  failure: z.string().nullable().describe('why the copies could not be made (status failed)'),
  renditions: z.array(z.enum(IMAGE_RENDITIONS)),
  encrypted: z.boolean(),
  createdAt: z.string(),
});

const imageParams = z.object({
  id: z.uuid({ message: 'must be an image id (a UUID)' }).transform((id) => id.toLowerCase()),
  rendition: z.enum(IMAGE_RENDITIONS),
});

const uploadQuery = z.object({ name: imageFileNameSchema.describe("the picture's file name, as the user named it") });

/** Types an upload may declare; the bytes themselves are checked as the CLI checks a file. */
const UPLOAD_TYPES = ['application/octet-stream', 'image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/avif', 'image/tiff'];

function viewOfImage(image: ImageState, handle: VaultHandle): z.output<typeof imageView> {
  const name = displayFileName(image, handle.vault.unlockedKey);
  return {
    id: image.id,
    recordId: image.recordId,
    fileName: image.encrypted && !handle.vault.unlockedKey ? null : name,
    type: image.original.type,
    size: image.original.size,
    width: image.original.width,
    height: image.original.height,
    status: image.status,
    failure: image.failure ?? null,
    renditions: IMAGE_RENDITIONS.filter((r) => r === 'original' || (r === 'cover' ? image.cover : image.compact) !== undefined),
    encrypted: image.encrypted,
    createdAt: new Date(image.createdAt).toISOString(),
  };
}

/** Saved under the picture's own name (the cover and compact copy marked as such), in RFC 6266's UTF-8 form. */
function attachmentNamed(fileName: string, rendition: string): string {
  const name = rendition === 'original' ? fileName : `${rendition}-${fileName}`;
  const plain = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${plain}"; filename*=UTF-8''${encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}

/**
 * Images of a record: listed, uploaded as a stream (kept in a private file only while it is sent,
 * sealed first when the vault is encrypted, checked as the CLI checks a file), downloaded by
 * rendition (opened here when sealed), detached.
 */
export function imageRoutes(app: AgentApp, context: AgentContext & { spool: Spool; uploadLimit: number }): void {
  app.addContentTypeParser(UPLOAD_TYPES, { bodyLimit: context.uploadLimit }, (_request, payload, done) => done(null, payload));

  app.get('/v1/records/:id/images', { schema: { summary: "a record's images", tags: ['images'], params: recordParams, response: { 200: z.object({ images: z.array(imageView) }), ...problems } } }, async (request) => {
    const { user } = callerOf(context, request);
    const handle = await user.vault();
    if (!handle.vault.record(request.params.id)) throw new KeeperFailure('not-found', `no record ${request.params.id}`);
    return { images: handle.vault.imagesOf(request.params.id).map((image) => viewOfImage(image, handle)) };
  });

  app.post(
    '/v1/records/:id/images',
    { schema: { summary: 'attach a picture: the body is its bytes', tags: ['images'], params: recordParams, querystring: uploadQuery, response: { 201: z.object({ image: imageView }), ...problems } } },
    async (request, reply) => {
      const { user } = callerOf(context, request);
      const handle = await user.vault();
      const recordId = request.params.id;
      if (!handle.vault.record(recordId)) throw new KeeperFailure('not-found', `no record ${recordId}`);
      const body = request.body as Readable | undefined;
      if (!body || typeof (body as Readable).pipe !== 'function') throw new KeeperFailure('invalid', `send the picture's bytes as the body, typed ${UPLOAD_TYPES.join(', ')}`);
      const path = await context.spool.file('upload');
      try {
        const file = await open(path, 'wx', 0o600);
        await pipeline(body, capped(context.uploadLimit, () => new KeeperFailure('too-large', `the picture is larger than this agent takes (${context.uploadLimit} bytes)`)), file.createWriteStream());
        if ((await stat(path)).size === 0) throw new KeeperFailure('invalid', 'the body is empty: send the picture');
        const attached = await user.transfer((held) => held.attachImage({ recordId, path, fileName: request.query.name }));
        await user.syncNow();
        const image = attached.image ? handle.vault.image(attached.image.id) : undefined;
        if (!image) throw new KeeperFailure('failed', 'the picture was attached but is not in the replica yet; list the images again');
        return reply.code(201).send({ image: viewOfImage(image, handle) });
      } finally {
        await rm(path, { force: true });
      }
    },
  );

  app.get('/v1/images/:id/:rendition', { schema: { summary: 'download a rendition (original, cover or compact): its bytes', tags: ['images'], params: imageParams } }, async (request, reply) => {
    const { user } = callerOf(context, request);
    const handle = await user.vault();
    const image = handle.vault.image(request.params.id);
    if (!image) throw new KeeperFailure('not-found', `no image ${request.params.id}`);
    const { rendition } = request.params;
    const info = rendition === 'original' ? image.original : rendition === 'cover' ? image.cover : image.compact;
    if (!info) throw new KeeperFailure('not-found', `the ${rendition} of image ${image.id} is not made yet (${image.status})`);
    const path = await context.spool.file('download');
    try {
      await user.transfer((held) => held.saveImage({ image, rendition, target: path }));
    } catch (error) {
      await rm(path, { force: true });
      throw error;
    }
    const stream = createReadStream(path);
    const removeFile = () => void rm(path, { force: true });
    stream.once('close', removeFile);
    const type = image.encrypted ? image.original.type : info.type;
    return reply
      .type(rendition === 'original' ? (type === 'application/octet-stream' ? 'application/octet-stream' : type) : info.type)
      .header('content-disposition', attachmentNamed(displayFileName(image, handle.vault.unlockedKey), rendition))
      .send(stream);
  });

  app.delete('/v1/images/:id', { schema: { summary: 'detach an image', tags: ['images'], params: imageParams.pick({ id: true }), response: { 204: z.null(), ...problems } } }, async (request, reply) => {
    const { user } = callerOf(context, request);
    const handle = await user.vault();
    if (!handle.vault.image(request.params.id)) throw new KeeperFailure('not-found', `no image ${request.params.id}`);
    await handle.removeImage(request.params.id);
    await user.syncNow();
    return reply.code(204).send(null);
  });
}
