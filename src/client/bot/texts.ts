import type { ImageState } from '../../domain/images.js';
import type { RecordKind } from '../../domain/record.js';
import { failureOf, type KeeperFailure } from '../core/failures.js';
import { MASK } from '../core/masking.js';
import type { OpenedRecord } from '../sync/record-crypto.js';

/** Telegram takes at most 4096 characters in a message; values are cut well before. */
const MESSAGE_MAX = 3800;
const VALUE_MAX = 300;

export const KIND_ICON: Record<RecordKind, string> = { login: '🔑', card: '💳', note: '📝', custom: '📦' };

export const HELP = [
  'Keeper keeps your logins, cards, notes and pictures. Commands:',
  '/login, /register: link this chat to your Keeper account',
  '/list: your records, a page at a time',
  '/search TEXT: records whose name or fields hold TEXT',
  '/add: a new record (login, card, note or custom)',
  '/unlock, /lock: open or close an encrypted vault with your secret word',
  '/status, /sync: where your vault stands; sync it now',
  '/logout: unlink this chat',
  '/cancel: drop the question I asked',
  'Open a record to reveal, edit or delete it, see its pictures, or attach a photo.',
  'I delete every message that holds a password or a secret word as soon as I have read it.',
].join('\n');

/** A sentence as the bot says it: a capital first, a full stop last. */
export function sentence(text: string): string {
  const trimmed = text.trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?)]$/.test(capital) ? capital : `${capital}.`;
}

/** What the bot says for a failure; the core's sentence unless the bot has its own words for the kind. */
export function failureText(error: unknown): string {
  const failure: KeeperFailure = failureOf(error);
  switch (failure.kind) {
    case 'not-logged-in':
      return 'This chat is not linked to a Keeper account: /login or /register first.';
    case 'session-ended':
      return `Your Keeper session ended${failure.detail.why ? ` (${failure.detail.why})` : ''}: /login again.`;
    case 'locked':
      return 'Your vault is locked: /unlock it with your secret word first.';
    case 'offline':
    case 'unavailable':
      // The server's address and the transport's words are for the log, not for the chat.
      return 'The Keeper server cannot be reached right now; nothing was changed. Try again in a moment.';
    case 'throttled':
      return `Too many attempts; try again in ${Math.max(1, Math.ceil((failure.detail.retryAfterMs ?? 1000) / 1000))} s.`;
    case 'failed':
      return 'Something went wrong on my side; nothing was changed.';
    default:
      return sentence(failure.message);
  }
}

export function cut(text: string, max = VALUE_MAX): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A record's name as shown: its (opened) name, or a placeholder while sealed and locked. */
export function nameOf(record: OpenedRecord): string {
  return record.unreadable.includes('name') ? '(sealed name: unlock to see it)' : cut(record.name, 100);
}

function imageLine(image: ImageState, locked: boolean): string {
  const name = image.encrypted && locked ? '(sealed name)' : cut(image.fileName, 60);
  const status = image.status === 'failed' ? `failed: ${image.failure ?? 'no reason given'}` : image.status;
  return `  ${name} · ${image.original.width}x${image.original.height} · ${status}`;
}

/** A record as a message: sensitive values masked unless revealed, values the locked vault cannot open said so. */
export function recordText(record: OpenedRecord, images: ImageState[], options: { reveal: boolean; locked: boolean; stale?: string | null }): string {
  const unreadable = new Set(record.unreadable);
  const lines = [`${KIND_ICON[record.kind]} ${nameOf(record)} · ${record.kind}`];
  if (record.conflictOf) lines.push(`(conflict copy of ${record.conflictOf.slice(0, 8)})`);
  for (const field of record.fields) {
    const value = unreadable.has(field.name) ? '(sealed: /unlock to see it)' : field.sensitive && !options.reveal ? `${MASK} (sensitive)` : cut(field.value) || '(empty)';
    lines.push(`${cut(field.name, 60)}: ${value}`);
  }
  if (record.fields.length === 0) lines.push('(no fields)');
  if (images.length > 0) lines.push(`🖼 ${images.length === 1 ? '1 picture' : `${images.length} pictures`}:`, ...images.slice(0, 10).map((image) => imageLine(image, options.locked)));
  lines.push(`updated ${new Date(record.updatedAt).toISOString().slice(0, 16).replace('T', ' ')} UTC`);
  if (options.stale) lines.push(`(the server cannot be reached: this is your vault as ${options.stale})`);
  return cut(lines.join('\n'), MESSAGE_MAX);
}
