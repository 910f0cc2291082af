import { z } from 'zod';

/**
 * What the bot takes from an update, checked by zod: Telegram's updates are large and change over
 * time, so only the parts the bot reads are required, and anything else is ignored. A message or
 * press that does not fit is not acted on.
 */
const id = z.number().int().safe();
const chat = z.object({ id, type: z.string().max(20) });
const sender = z.object({ id, is_bot: z.boolean() });
const fileId = z.string().min(1).max(300);

const photoSize = z.object({ file_id: fileId, file_size: z.number().int().nonnegative().optional(), width: z.number().int(), height: z.number().int() });

const message = z.object({
  message_id: id,
  chat,
  from: sender.optional(),
  text: z.string().max(4096).optional(),
  caption: z.string().max(1024).optional(),
  photo: z.array(photoSize).max(20).optional(),
  document: z.object({ file_id: fileId, file_name: z.string().max(255).optional(), mime_type: z.string().max(255).optional(), file_size: z.number().int().nonnegative().optional() }).optional(),
});

const callbackQuery = z.object({
  id: z.string().min(1).max(100),
  from: sender,
  data: z.string().max(64).optional(),
  message: z.object({ message_id: id, chat }).optional(),
});

const update = z.object({ update_id: id, message: message.optional(), callback_query: callbackQuery.optional() });

interface Common {
  chatId: number;
  /** private, group, supergroup or channel. */
  chatType: string;
  /** The Telegram user who sent it. */
  userId: number;
}

export type Incoming = Common &
  (
    | { kind: 'text'; messageId: number; text: string }
    /** A photo, or a file sent as a document; the largest size of a photo. */
    | { kind: 'picture'; messageId: number; fileId: string; fileSize: number | undefined; fileName: string | undefined; caption: string | undefined }
    | { kind: 'button'; messageId: number; queryId: string; data: string }
    /** Anything else in a chat (a sticker, a voice message): answered with a hint. */
    | { kind: 'other'; messageId: number }
  );

/** The update as the bot reads it, or undefined for what it leaves alone (bots, channels, edits, malformed updates). */
export function readUpdate(raw: unknown): Incoming | undefined {
  const parsed = update.safeParse(raw);
  if (!parsed.success) return undefined;
  const { message: m, callback_query: q } = parsed.data;
  if (q) {
    if (q.from.is_bot || !q.message) return undefined;
    return { chatId: q.message.chat.id, chatType: q.message.chat.type, userId: q.from.id, kind: 'button', messageId: q.message.message_id, queryId: q.id, data: q.data ?? '' };
  }
  if (!m || !m.from || m.from.is_bot) return undefined;
  const common = { chatId: m.chat.id, chatType: m.chat.type, userId: m.from.id };
  if (m.text !== undefined) return { ...common, kind: 'text', messageId: m.message_id, text: m.text };
  if (m.photo && m.photo.length > 0) {
    const largest = m.photo.reduce((a, b) => (b.width * b.height > a.width * a.height ? b : a));
    return { ...common, kind: 'picture', messageId: m.message_id, fileId: largest.file_id, fileSize: largest.file_size, fileName: undefined, caption: m.caption };
  }
  if (m.document) {
    return { ...common, kind: 'picture', messageId: m.message_id, fileId: m.document.file_id, fileSize: m.document.file_size, fileName: m.document.file_name, caption: m.caption };
  }
  return { ...common, kind: 'other', messageId: m.message_id };
}

/** A command as typed: `/search mail` (also `/search@keeper_bot mail`). */
export function readCommand(text: string): { name: string; args: string } | undefined {
  const match = /^\/([A-Za-z_]{1,32})(?:@[A-Za-z0-9_]{1,64})?(?:\s+([\s\S]*))?$/.exec(text.trim());
  return match ? { name: match[1]!.toLowerCase(), args: (match[2] ?? '').trim() } : undefined;
}
