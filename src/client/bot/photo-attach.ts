import { imageFileNameSchema } from '../../domain/images.js';
import { KeeperFailure } from '../core/failures.js';
import { liveRecord } from '../core/lookups.js';
import { userOf, type Turn } from './bot-context.js';
import type { Incoming } from './incoming.js';
import { nameOf } from './texts.js';

type Picture = Extract<Incoming, { kind: 'picture' }>;

/** The record the next photo goes to (pressed under a record). */
export async function askPhoto(turn: Turn, id: string): Promise<void> {
  const handle = await userOf(turn).vault();
  const record = handle.vault.open(liveRecord(handle.vault, id));
  if (handle.vault.encrypted && !handle.vault.unlocked) throw new KeeperFailure('locked', 'locked');
  turn.ctx.conversations.set(turn.chatId, { step: 'photo', recordId: id });
  await turn.say(`Send the photo for “${nameOf(record)}” now (as a photo, or as a file to keep every pixel), or /cancel.`);
}

/** A name for the picture: the file's own when it was sent as a file and is a plain name, else one made from the time. */
function fileNameOf(picture: Picture, at: number): string {
  const given = imageFileNameSchema.safeParse(picture.fileName ?? '');
  if (given.success) return given.data;
  return `photo-${new Date(at).toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}.jpg`;
}

/**
 * A picture sent to the bot: attached to the record chosen with 📎 (or named by the caption),
 * fetched from Telegram into the spool, sent to the server (sealed first in an encrypted vault),
 * and removed from the spool.
 */
export async function attachPicture(turn: Turn, picture: Picture): Promise<void> {
  const { ctx } = turn;
  const user = userOf(turn);
  const handle = await user.vault();
  const step = ctx.conversations.get(turn.chatId);
  let recordId: string;
  if (step?.step === 'photo') recordId = step.recordId;
  else if (picture.caption?.trim()) recordId = handle.findRecord(picture.caption.trim()).id;
  else {
    await turn.say('Which record is this picture for? Open the record (/list or /search) and press 📎 Attach photo, or send the picture with the record’s name as its caption.');
    return;
  }
  ctx.conversations.end(turn.chatId);
  const record = handle.vault.open(liveRecord(handle.vault, recordId));
  if (picture.fileSize !== undefined && picture.fileSize > ctx.maxPictureBytes) {
    throw new KeeperFailure('too-large', `that file is larger than ${Math.floor(ctx.maxPictureBytes / 1_000_000)} MB, which is as much as the bot takes`);
  }
  const fileName = fileNameOf(picture, ctx.now());
  await ctx.spool.holding('upload', async (path) => {
    await ctx.telegram.download(picture.fileId, path, ctx.maxPictureBytes);
    await user.transfer((held) => held.attachImage({ recordId, path, fileName }));
  });
  await user.syncNow();
  const made = handle.vault.encrypted ? 'Its cover was made here and sealed.' : 'The server is making its cover; press 🖼 Cover under the record in a moment.';
  await turn.say(`📎 Attached ${fileName} to “${nameOf(record)}”. ${made}`);
}
