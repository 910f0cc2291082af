import { useEffect, useRef, useState } from 'preact/hooks';
import { agent, imageUrl, isAbort } from '../../api/agent.js';
import type { ImageView } from '../../api/schemas.js';
import { uploadImage } from '../../api/upload.js';
import { formatBytes } from '../../lib/format.js';
import { ConfirmDialog, Dialog } from '../common/Dialog.js';
import type { VaultActions } from './actions.js';

const POLL_MS = 2_000;

/**
 * A record's pictures: covers as thumbnails, status with the reason of a failure, the compact copy
 * in a viewer, the original as a download; attached by the picker or by dropping a file, with
 * progress. While the server still makes copies the list is read again every 2 s.
 */
export function ImagesSection({ recordId, revision, attachRequest, actions }: { recordId: string; revision: number; attachRequest: number; actions: VaultActions }) {
  const [images, setImages] = useState<ImageView[]>([]);
  const [poll, setPoll] = useState(0);
  const [upload, setUpload] = useState<{ name: string; sent: number; total: number } | null>(null);
  const [dragging, setDragging] = useState(false);
  const [viewing, setViewing] = useState<ImageView | null>(null);
  const [removing, setRemoving] = useState<ImageView | null>(null);
  const picker = useRef<HTMLInputElement>(null);
  const firstRequest = useRef(attachRequest);

  useEffect(() => {
    const controller = new AbortController();
    agent
      .images(recordId, controller.signal)
      .then((answer) => setImages(answer.images))
      .catch((error: unknown) => isAbort(error) || actions.fail(error));
    return () => controller.abort();
  }, [recordId, revision, poll]);

  const processing = images.some((image) => image.status === 'processing');
  useEffect(() => {
    if (!processing) return;
    const timer = window.setTimeout(() => setPoll((n) => n + 1), POLL_MS);
    return () => window.clearTimeout(timer);
  }, [processing, poll]);

  useEffect(() => {
    if (attachRequest !== firstRequest.current) picker.current?.click();
  }, [attachRequest]);

  const send = async (file: File) => {
    setUpload({ name: file.name, sent: 0, total: file.size });
    try {
      const image = await uploadImage(recordId, file, (sent, total) => setUpload({ name: file.name, sent, total }));
      actions.say(`Attached "${file.name}".${image.status === 'processing' ? ' The server is making its cover and compact copy.' : ''}`);
      setPoll((n) => n + 1);
    } catch (error) {
      actions.fail(error);
    } finally {
      setUpload(null);
    }
  };

  const remove = async (image: ImageView) => {
    setRemoving(null);
    try {
      await agent.removeImage(image.id);
      actions.say(`Removed "${image.fileName ?? 'the picture'}" from this record.`);
      setPoll((n) => n + 1);
    } catch (error) {
      actions.fail(error);
    }
  };

  const percent = upload && upload.total > 0 ? Math.round((upload.sent / upload.total) * 100) : 0;
  return (
    <section
      class={`images${dragging ? ' dragging' : ''}`}
      aria-labelledby="images-title"
      onDragOver={(event) => {
        event.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(event) => {
        event.preventDefault();
        setDragging(false);
        const file = event.dataTransfer?.files[0];
        if (file) void send(file);
      }}
    >
      <h3 id="images-title">Pictures ({images.length})</h3>
      <p class="hint">Drop a picture here, or attach one (a).</p>
      <input
        ref={picker}
        id="attach-input"
        type="file"
        accept="image/*"
        hidden
        onChange={(event) => {
          const file = event.currentTarget.files?.[0];
          event.currentTarget.value = '';
          if (file) void send(file);
        }}
      />
      <button type="button" onClick={() => picker.current?.click()} disabled={upload !== null} aria-keyshortcuts="a">
        Attach a picture…
      </button>
      {upload ? (
        <div class="upload" role="status">
          <label for="upload-progress">
            Uploading {upload.name}: {percent}%
          </label>
          <progress id="upload-progress" max={upload.total} value={upload.sent} />
        </div>
      ) : null}
      <ul class="image-list">
        {images.map((image) => {
          const name = image.fileName ?? '(sealed name)';
          return (
            <li key={image.id} class="image" data-status={image.status}>
              {image.renditions.includes('cover') ? <img class="cover" src={imageUrl(image.id, 'cover')} alt={`Cover of ${name}`} width={60} height={60} /> : <span class="cover none" aria-hidden="true" />}
              <div class="image-about">
                <span class="file-name">{name}</span>
                <span class="image-facts">
                  {formatBytes(image.size)} · {image.width}×{image.height} ·{' '}
                  <span class={`image-status ${image.status}`}>
                    {image.status}
                    {image.status === 'failed' && image.failure ? `: ${image.failure}` : ''}
                  </span>
                </span>
                <span class="image-actions">
                  <button type="button" class="small" onClick={() => setViewing(image)} aria-label={`View ${name}`}>
                    View
                  </button>
                  <a class="button small" href={imageUrl(image.id, 'original')} download={image.fileName ?? ''} aria-label={`Download the original of ${name}`}>
                    Download original
                  </a>
                  <button type="button" class="small" onClick={() => setRemoving(image)} aria-label={`Remove ${name}`}>
                    Remove
                  </button>
                </span>
              </div>
            </li>
          );
        })}
      </ul>
      {viewing ? (
        <Dialog title={viewing.fileName ?? 'Picture'} onClose={() => setViewing(null)} wide>
          <img
            class="viewer"
            src={imageUrl(viewing.id, viewing.renditions.includes('compact') ? 'compact' : 'original')}
            alt={`${viewing.fileName ?? 'The picture'}, ${viewing.renditions.includes('compact') ? 'compact copy' : 'original'}`}
          />
          <p>
            {viewing.renditions.includes('compact') ? 'The compact copy (at most 1 MB).' : 'The original: the compact copy is not made yet.'} The original is {formatBytes(viewing.size)}, {viewing.width}×{viewing.height}.
          </p>
          <div class="actions">
            <a class="button" href={imageUrl(viewing.id, 'original')} download={viewing.fileName ?? ''}>
              Download original
            </a>
            <button type="button" autoFocus onClick={() => setViewing(null)}>
              Close
            </button>
          </div>
        </Dialog>
      ) : null}
      {removing ? (
        <ConfirmDialog
          title="Remove the picture?"
          text={`"${removing.fileName ?? 'The picture'}" is taken off this record.`}
          confirm="Remove"
          onConfirm={() => void remove(removing)}
          onClose={() => setRemoving(null)}
        />
      ) : null}
    </section>
  );
}
