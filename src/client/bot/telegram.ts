import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GrammyError, HttpError, InputFile, type Api } from 'grammy';
import type { InlineKeyboardMarkup } from 'grammy/types';
import { capped } from '../../lib/capped-stream.js';
import { KeeperFailure } from '../core/failures.js';

/** Inline buttons under a message: rows of labels with the data a press sends back. */
export type Buttons = ReadonlyArray<ReadonlyArray<{ text: string; data: string }>>;

/** What the bot does in a chat, in its own terms; grammY's Api does the calling. */
export interface Telegram {
  /** Sends plain text (never parsed as Markdown or HTML: record names and values are shown as they are); the message id. */
  send(chatId: number, text: string, buttons?: Buttons): Promise<number>;
  edit(chatId: number, messageId: number, text: string, buttons?: Buttons): Promise<void>;
  /** Deletes a message; false when Telegram would not (too old, already gone). */
  remove(chatId: number, messageId: number): Promise<boolean>;
  /** Answers a button press (the spinner on the button stops); `text` shows as a short notice. */
  answer(queryId: string, text?: string): Promise<void>;
  sendPhoto(chatId: number, bytes: Buffer, caption: string, buttons?: Buttons): Promise<number>;
  sendDocument(chatId: number, bytes: Buffer, fileName: string, caption: string): Promise<number>;
  leave(chatId: number): Promise<void>;
  /** Downloads a file sent to the bot into `target`, refusing one larger than `maxBytes`. */
  download(fileId: string, target: string, maxBytes: number): Promise<void>;
}

function markup(buttons: Buttons | undefined): { reply_markup?: InlineKeyboardMarkup } {
  if (!buttons || buttons.length === 0) return {};
  return { reply_markup: { inline_keyboard: buttons.map((row) => row.map((b) => ({ text: b.text, callback_data: b.data }))) } };
}

/** Telegram's own answer to a call, without its payload (which may hold a revealed value). */
export function telegramProblem(error: unknown): { method?: string; code?: number; description?: string } {
  if (error instanceof GrammyError) return { method: error.method, code: error.error_code, description: error.description };
  // grammY's own words name the method only; the cause (which may hold the URL, and so the token) stays out.
  if (error instanceof HttpError) return { method: /'(\w+)'/.exec(error.message)?.[1] ?? 'unknown', description: 'the Bot API could not be reached' };
  return {};
}

function tooLarge(maxBytes: number): KeeperFailure {
  return new KeeperFailure('too-large', `the file is larger than ${Math.floor(maxBytes / 1_000_000)} MB, which is as much as the bot takes`);
}

/**
 * The Bot API through grammY. Files are fetched from `<apiRoot>/file/bot<token>/<path>`: the URL
 * holds the token, so no error from it is passed on with its words, only a sentence.
 */
export function grammyTelegram(api: Api, apiRoot: string, token: string): Telegram {
  return {
    async send(chatId, text, buttons) {
      const sent = await api.sendMessage(chatId, text, { ...markup(buttons), link_preview_options: { is_disabled: true } });
      return sent.message_id;
    },
    async edit(chatId, messageId, text, buttons) {
      try {
        await api.editMessageText(chatId, messageId, text, { ...markup(buttons), link_preview_options: { is_disabled: true } });
      } catch (error) {
        // Pressing the same page twice: Telegram refuses an edit that changes nothing.
        if (error instanceof GrammyError && /message is not modified/.test(error.description)) return;
        throw error;
      }
    },
    async remove(chatId, messageId) {
      try {
        return await api.deleteMessage(chatId, messageId);
      } catch (error) {
        if (error instanceof GrammyError && error.error_code === 400) return false;
        throw error;
      }
    },
    async answer(queryId, text) {
      await api.answerCallbackQuery(queryId, text ? { text } : {});
    },
    async sendPhoto(chatId, bytes, caption, buttons) {
      const sent = await api.sendPhoto(chatId, new InputFile(bytes, 'cover.jpg'), { caption, ...markup(buttons) });
      return sent.message_id;
    },
    async sendDocument(chatId, bytes, fileName, caption) {
      const sent = await api.sendDocument(chatId, new InputFile(bytes, fileName), { caption });
      return sent.message_id;
    },
    async leave(chatId) {
      await api.leaveChat(chatId);
    },
    async download(fileId, target, maxBytes) {
      const file = await api.getFile(fileId);
      if (file.file_size !== undefined && file.file_size > maxBytes) throw tooLarge(maxBytes);
      if (!file.file_path) throw new KeeperFailure('failed', 'Telegram did not say where the file is');
      let response: Response;
      try {
        response = await fetch(`${apiRoot}/file/bot${token}/${file.file_path.split('/').map(encodeURIComponent).join('/')}`);
      } catch {
        throw new KeeperFailure('offline', 'the file could not be fetched from Telegram');
      }
      if (!response.ok || !response.body) throw new KeeperFailure('failed', `Telegram did not hand over the file (HTTP ${response.status})`);
      await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), capped(maxBytes, () => tooLarge(maxBytes)), createWriteStream(target, { flags: 'wx', mode: 0o600 }));
    },
  };
}
