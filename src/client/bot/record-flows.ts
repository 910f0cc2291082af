import { readFile } from 'node:fs/promises';
import type { ImageState } from '../../domain/images.js';
import { KeeperFailure } from '../core/failures.js';
import { liveRecord } from '../core/lookups.js';
import { recordsByName } from '../core/name-order.js';
import { displayFileName, savedFileName } from '../images/image-transfer.js';
import type { HeldUser } from '../users/held-users.js';
import type { VaultHandle } from '../core/vault-handle.js';
import { data } from './buttons.js';
import { userOf, type Turn } from './bot-context.js';
import type { Buttons } from './telegram.js';
import { cut, KIND_ICON, nameOf, recordText } from './texts.js';

const PAGE = 8;
const SEARCH_HITS = 10;
const COVERS_AT_ONCE = 5;

/** The replica's age in words when the last sync did not reach the server. */
function staleness(user: HeldUser): string | null {
  if (!user.sync.stale) return null;
  return user.sync.lastSyncAt === null ? 'it was last kept here' : `of the last sync attempt at ${new Date(user.sync.lastSyncAt).toISOString().slice(11, 16)} UTC`;
}

function recordButton(handle: VaultHandle, id: string): { text: string; data: string } {
  const opened = handle.vault.open(liveRecord(handle.vault, id));
  return { text: cut(`${KIND_ICON[opened.kind]} ${nameOf(opened)}`, 48), data: data('r', id) };
}

/** A page of the records by name, with a button for each and buttons to turn the page. */
function listPage(user: HeldUser, handle: VaultHandle, page: number): { text: string; buttons: Buttons } {
  const all = recordsByName(handle.vault);
  if (all.length === 0) return { text: 'Your vault is empty: /add makes a record.', buttons: [] };
  const last = Math.max(0, Math.ceil(all.length / PAGE) - 1);
  const shown = Math.min(page, last);
  const slice = all.slice(shown * PAGE, shown * PAGE + PAGE);
  const nav = [...(shown > 0 ? [{ text: '◀ Previous', data: data('l', shown - 1) }] : []), ...(shown < last ? [{ text: 'Next ▶', data: data('l', shown + 1) }] : [])];
  const stale = staleness(user);
  const text = [`📋 Records ${shown * PAGE + 1}–${shown * PAGE + slice.length} of ${all.length} (page ${shown + 1} of ${last + 1}):`, ...(stale ? [`(the server cannot be reached: this is your vault as ${stale})`] : [])].join('\n');
  return { text, buttons: [...slice.map((record) => [recordButton(handle, record.id)]), ...(nav.length > 0 ? [nav] : [])] };
}

export async function list(turn: Turn): Promise<void> {
  const user = userOf(turn);
  const handle = await user.vault();
  user.refreshSoon();
  const { text, buttons } = listPage(user, handle, 0);
  await turn.say(text, buttons);
}

/** Turns the page of a list in place. */
export async function turnPage(turn: Turn, page: number): Promise<void> {
  const user = userOf(turn);
  const handle = await user.vault();
  const { text, buttons } = listPage(user, handle, page);
  if (turn.incoming.kind === 'button') await turn.ctx.telegram.edit(turn.chatId, turn.incoming.messageId, text, buttons);
  else await turn.say(text, buttons);
}

export async function search(turn: Turn, query: string): Promise<void> {
  if (query.length === 0) {
    await turn.say('What should I look for? /search TEXT finds records whose name or fields hold TEXT.');
    return;
  }
  if (query.length > 200) {
    await turn.say('A search is at most 200 characters.');
    return;
  }
  const user = userOf(turn);
  const handle = await user.vault();
  user.refreshSoon();
  const result = await handle.exclusive(async (vault) => vault.find(query, { limit: SEARCH_HITS }));
  if (result.total === 0) {
    await turn.say(`🔎 Nothing matches “${cut(query, 60)}”.`);
    return;
  }
  const more = result.total > result.hits.length ? `\n(the first ${result.hits.length}: a longer text narrows the search)` : '';
  await turn.say(`🔎 ${result.total === 1 ? '1 record matches' : `${result.total} records match`} “${cut(query, 60)}”:${more}`, result.hits.map((hit) => [recordButton(handle, hit.id)]));
}

export function recordButtons(handle: VaultHandle, id: string): Buttons {
  const opened = handle.vault.open(liveRecord(handle.vault, id));
  const images = handle.vault.imagesOf(id);
  const hidden = opened.fields.some((field) => field.sensitive);
  return [
    [...(hidden ? [{ text: '👁 Reveal', data: data('v', id) }] : []), { text: '✏️ Edit', data: data('e', id) }, { text: '🗑 Delete', data: data('d', id) }],
    [...(images.length > 0 ? [{ text: images.length === 1 ? '🖼 Cover' : '🖼 Covers', data: data('c', id) }] : []), { text: '📎 Attach photo', data: data('p', id) }],
  ];
}

export async function show(turn: Turn, id: string): Promise<void> {
  const user = userOf(turn);
  const handle = await user.vault();
  user.refreshSoon();
  const record = handle.vault.open(liveRecord(handle.vault, id));
  const locked = handle.vault.encrypted && !handle.vault.unlocked;
  await turn.say(recordText(record, handle.vault.imagesOf(id), { reveal: false, locked, stale: staleness(user) }), recordButtons(handle, id));
}

/** The record with its sensitive values, in a message that deletes itself. */
export async function reveal(turn: Turn, id: string): Promise<void> {
  const { ctx } = turn;
  const user = userOf(turn);
  const handle = await user.vault();
  const record = handle.vault.open(liveRecord(handle.vault, id));
  if (!record.fields.some((field) => field.sensitive)) {
    await turn.say('Nothing in this record is hidden.');
    return;
  }
  const locked = handle.vault.encrypted && !handle.vault.unlocked;
  const seconds = Math.round(ctx.reveals.afterSeconds);
  const text = `🔓 ${recordText(record, [], { reveal: true, locked })}\n\n⏱ This message deletes itself in ${seconds} s.`;
  const messageId = await turn.say(text);
  ctx.reveals.arm(turn.chatId, messageId);
}

export async function askDelete(turn: Turn, id: string): Promise<void> {
  const user = userOf(turn);
  const handle = await user.vault();
  const record = handle.vault.open(liveRecord(handle.vault, id));
  await turn.say(`Delete “${nameOf(record)}”? It leaves every device (its history keeps it, so it can be restored from the CLI or the agent).`, [
    [
      { text: '🗑 Yes, delete', data: data('dy', id) },
      { text: 'No', data: data('no') },
    ],
  ]);
}

export async function remove(turn: Turn, id: string): Promise<void> {
  const user = userOf(turn);
  const handle = await user.vault();
  const name = nameOf(handle.vault.open(liveRecord(handle.vault, id)));
  await handle.exclusive(async (vault) => {
    liveRecord(vault, id);
    await vault.delete(id);
  });
  const outcome = await user.syncNow();
  await turn.say(`🗑 Deleted “${name}”.${outcome.online ? '' : ' The server cannot be reached right now: the deletion is sent at the next sync.'}`);
}

/**
 * A rendition to send, fetched through the spool (opened here when the image is sealed); when it
 * is not made yet (or could not be), the chat is told why and there is nothing to send.
 */
async function rendition(turn: Turn, user: HeldUser, handle: VaultHandle, image: ImageState, which: 'cover' | 'compact'): Promise<{ name: string; bytes: Buffer } | undefined> {
  if (image.encrypted && !handle.vault.unlockedKey) throw new KeeperFailure('locked', 'locked');
  const name = displayFileName(image, handle.vault.unlockedKey);
  if ((which === 'cover' ? image.cover : image.compact) === undefined) {
    await turn.say(image.status === 'failed' ? `${name} has no ${which}: ${image.failure ?? 'the server could not make one'}.` : `The ${which} of ${name} is not made yet; try again in a moment.`);
    return undefined;
  }
  const bytes = await turn.ctx.spool.holding('download', async (path) => {
    await user.transfer((held) => held.saveImage({ image, rendition: which, target: path }));
    return readFile(path);
  });
  return { name, bytes };
}

/** Each picture's cover of a record, as photos, with a button for its compact copy. */
export async function covers(turn: Turn, id: string): Promise<void> {
  const user = userOf(turn);
  const handle = await user.vault();
  liveRecord(handle.vault, id);
  const images = handle.vault.imagesOf(id);
  if (images.length === 0) {
    await turn.say('This record has no pictures yet: press 📎 Attach photo and send one.');
    return;
  }
  for (const image of images.slice(0, COVERS_AT_ONCE)) {
    const cover = await rendition(turn, user, handle, image, 'cover');
    if (cover) await turn.ctx.telegram.sendPhoto(turn.chatId, cover.bytes, cut(`${cover.name} · cover`, 200), [[{ text: '📄 Compact copy', data: data('k', image.id) }]]);
  }
  if (images.length > COVERS_AT_ONCE) await turn.say(`(${images.length - COVERS_AT_ONCE} more pictures are not shown here.)`);
}

/** An image's compact copy (at most 1 MB), as a file: its bytes as they are. */
export async function compact(turn: Turn, imageId: string): Promise<void> {
  const user = userOf(turn);
  const handle = await user.vault();
  const image = handle.vault.image(imageId);
  if (!image) throw new KeeperFailure('not-found', 'that picture is not in your vault (any more)');
  const copy = await rendition(turn, user, handle, image, 'compact');
  if (copy) await turn.ctx.telegram.sendDocument(turn.chatId, copy.bytes, savedFileName(image, 'compact', handle.vault.unlockedKey), cut(`${copy.name} · compact copy`, 200));
}
