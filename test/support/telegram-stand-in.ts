import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for Telegram's Bot API, for grammY's `client.apiRoot`: the real library code
 * runs against it. It feeds updates to `getUpdates` (long polling, woken as soon as an update is
 * fed), answers the methods the Keeper bot calls as Telegram would, serves files sent to the bot
 * through `getFile` and `/file/bot<token>/<path>`, and records every call with its payload (a
 * multipart upload's file as bytes).
 */

export interface TelegramChat {
  id: number;
  type: 'private' | 'group' | 'supergroup';
  first_name?: string;
  title?: string;
}

export interface TelegramUser {
  id: number;
  is_bot: boolean;
  first_name: string;
}

export interface UploadedFile {
  bytes: Buffer;
  name: string;
  type: string;
}

export interface RecordedCall {
  method: string;
  payload: Record<string, unknown>;
  /** The files of a multipart call, by the field that named them (photo, document). */
  files: Record<string, UploadedFile>;
  at: number;
}

/** A message the bot sent (and maybe edited since), as Telegram holds it. */
export interface BotMessage {
  message_id: number;
  chatId: number;
  text: string;
  /** Inline buttons: rows of [text, callback data]. */
  buttons: Array<Array<{ text: string; data: string }>>;
  deleted: boolean;
  photo?: UploadedFile;
  document?: UploadedFile;
}

export interface StandInOptions {
  token?: string;
  /** Answers sendMessage with this error (e.g. 403: the user blocked the bot) when it returns one. */
  failSend?: (payload: Record<string, unknown>) => { error_code: number; description: string } | undefined;
  /** deleteMessage answers "message can't be deleted" for these ids. */
  undeletable?: Set<number>;
  /** Keep every call in `calls` (default); a long benchmark only listens (`listen`) instead. */
  keepCalls?: boolean;
}

type Update = Record<string, unknown> & { update_id: number };

const BOT = { id: 7_000_001, is_bot: true, first_name: 'Keeper', username: 'keeper_test_bot', can_join_groups: false, can_read_all_group_messages: false, supports_inline_queries: false, can_connect_to_business: false, has_main_web_app: false };

export class TelegramStandIn {
  readonly calls: RecordedCall[] = [];
  readonly botInfo = { ...BOT } as const;
  readonly messages = new Map<number, BotMessage>();
  private readonly updates: Update[] = [];
  private readonly files = new Map<string, { path: string; bytes: Buffer }>();
  private readonly wakers = new Set<() => void>();
  private readonly callWatchers = new Set<() => void>();
  private readonly listeners = new Set<(call: RecordedCall) => void>();
  private nextUpdateId = 1;
  private nextMessageId = 1;
  private confirmedOffset = 0;
  private closed = false;

  private constructor(
    private readonly server: Server,
    readonly apiRoot: string,
    readonly token: string,
    private readonly options: StandInOptions,
  ) {}

  static async start(options: StandInOptions = {}): Promise<TelegramStandIn> {
    const token = options.token ?? '1234567:TEST_token-of-the-stand-in-0123456789';
    let standIn: TelegramStandIn | undefined;
    const server = createServer((request, response) => {
      standIn!.serve(request, response).catch((error: unknown) => {
        console.error('stand-in', error);
        reply(response, 500, { ok: false, error_code: 500, description: `Internal Server Error: the stand-in failed (${String(error)})` });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    standIn = new TelegramStandIn(server, `http://127.0.0.1:${port}`, token, options);
    return standIn;
  }

  static privateChat(id: number, name = `user ${id}`): { chat: TelegramChat; from: TelegramUser } {
    return { chat: { id, type: 'private', first_name: name }, from: { id, is_bot: false, first_name: name } };
  }

  static groupChat(id: number, from: number): { chat: TelegramChat; from: TelegramUser } {
    return { chat: { id, type: 'group', title: 'a group' }, from: { id: from, is_bot: false, first_name: `user ${from}` } };
  }

  // ---- feeding updates ----

  /** Queues an update (its id is given here) and wakes a waiting getUpdates. */
  push(update: Record<string, unknown>): number {
    const id = this.nextUpdateId++;
    this.updates.push({ ...update, update_id: id });
    for (const wake of this.wakers) wake();
    return id;
  }

  /** A text message from `who`; its message id. */
  sendText(who: { chat: TelegramChat; from: TelegramUser }, text: string): number {
    const message_id = this.nextMessageId++;
    const entities = text.startsWith('/') ? [{ type: 'bot_command', offset: 0, length: text.split(/\s/)[0]!.length }] : undefined;
    this.push({ message: { message_id, date: now(), chat: who.chat, from: who.from, text, ...(entities ? { entities } : {}) } });
    return message_id;
  }

  /** A press of an inline button under one of the bot's messages; the callback query's id. */
  press(who: { chat: TelegramChat; from: TelegramUser }, message: BotMessage | number, data: string): string {
    const id = `cq-${this.nextUpdateId}`;
    const messageId = typeof message === 'number' ? message : message.message_id;
    const shown = this.messages.get(messageId);
    this.push({ callback_query: { id, from: who.from, chat_instance: `ci-${who.chat.id}`, data, message: { message_id: messageId, date: now(), chat: who.chat, from: BOT, text: shown?.text ?? '' } } });
    return id;
  }

  /** Presses the button of `message` whose label matches. */
  pressLabel(who: { chat: TelegramChat; from: TelegramUser }, message: BotMessage, label: RegExp): string {
    const button = message.buttons.flat().find((b) => label.test(b.text));
    if (!button) throw new Error(`no button ${label} under "${message.text}" (buttons: ${message.buttons.flat().map((b) => b.text).join(', ')})`);
    return this.press(who, message, button.data);
  }

  /** A photo sent to the bot (the file is served by getFile and the file route); its message id. */
  sendPhoto(who: { chat: TelegramChat; from: TelegramUser }, bytes: Buffer, options: { caption?: string; width?: number; height?: number } = {}): number {
    const message_id = this.nextMessageId++;
    const fileId = `photo-${message_id}`;
    this.files.set(fileId, { path: `photos/file_${message_id}.jpg`, bytes });
    const sizes = [
      { file_id: `${fileId}-small`, file_unique_id: `u${fileId}s`, width: 90, height: 90, file_size: 100 },
      { file_id: fileId, file_unique_id: `u${fileId}`, width: options.width ?? 800, height: options.height ?? 600, file_size: bytes.length },
    ];
    this.files.set(`${fileId}-small`, { path: `photos/file_${message_id}_s.jpg`, bytes: Buffer.from('not the big one') });
    this.push({ message: { message_id, date: now(), chat: who.chat, from: who.from, photo: sizes, ...(options.caption ? { caption: options.caption } : {}) } });
    return message_id;
  }

  // ---- watching what the bot did ----

  /** Tells `listener` of every call as it is answered; returns the way to stop. */
  listen(listener: (call: RecordedCall) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  mark(): number {
    return this.calls.length;
  }

  /** The first call since `after` that `match` accepts, waiting for it up to `timeoutMs`. */
  async waitForCall(match: (call: RecordedCall) => boolean, options: { after?: number; timeoutMs?: number; what?: string } = {}): Promise<RecordedCall> {
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    let from = options.after ?? 0;
    for (;;) {
      for (; from < this.calls.length; from++) if (match(this.calls[from]!)) return this.calls[from]!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${options.what ?? 'a call'}; calls since: ${this.describe(options.after ?? 0)}`);
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.callWatchers.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.callWatchers.add(done);
      });
    }
  }

  /** The next message the bot sends to `chatId` after `after` whose text matches. */
  async nextMessage(chatId: number, text: RegExp = /./, options: { after?: number; timeoutMs?: number } = {}): Promise<BotMessage> {
    const call = await this.waitForCall((c) => (c.method === 'sendMessage' || c.method === 'editMessageText') && Number(c.payload.chat_id) === chatId && text.test(String(c.payload.text)), {
      ...options,
      what: `a message to ${chatId} matching ${text}`,
    });
    return this.messages.get(Number(call.method === 'editMessageText' ? call.payload.message_id : call.payload.__message_id))!;
  }

  /** Every call of a method (to one chat when given). */
  callsOf(method: string, chatId?: number, after = 0): RecordedCall[] {
    return this.calls.slice(after).filter((c) => c.method === method && (chatId === undefined || Number(c.payload.chat_id) === chatId));
  }

  /** Everything the bot said to `chatId` after `after`, in order. */
  textsTo(chatId: number, after = 0): string[] {
    return this.callsOf('sendMessage', chatId, after).map((c) => String(c.payload.text));
  }

  describe(after = 0): string {
    return this.calls
      .slice(after)
      .map((c) => `${c.method}(${c.payload.chat_id ?? ''}${c.payload.text !== undefined ? ` "${String(c.payload.text).slice(0, 60)}"` : ''})`)
      .join(', ');
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const wake of this.wakers) wake();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- the Bot API ----

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.apiRoot);
    const file = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
    if (file) return this.serveFile(file[1]!, file[2]!, response);
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    if (!match) return reply(response, 404, { ok: false, error_code: 404, description: 'Not Found' });
    if (match[1] !== this.token) return reply(response, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
    const method = match[2]!;
    const { payload, files } = await readPayload(request);
    const call: RecordedCall = { method, payload, files, at: Date.now() };
    if (method !== 'getUpdates') this.record(call);
    const answer = await this.answer(method, payload, files, request);
    if (answer.ok && (method === 'sendMessage' || method === 'sendPhoto' || method === 'sendDocument')) call.payload.__message_id = (answer.result as { message_id: number }).message_id;
    if (method !== 'getUpdates') {
      for (const wake of [...this.callWatchers]) wake();
      for (const listener of this.listeners) listener(call);
    }
    reply(response, answer.ok ? 200 : (answer.error_code as number), answer);
  }

  private record(call: RecordedCall): void {
    if (this.options.keepCalls !== false) this.calls.push(call);
  }

  private async answer(method: string, payload: Record<string, unknown>, files: Record<string, UploadedFile>, request: IncomingMessage): Promise<Record<string, unknown>> {
    const ok = (result: unknown) => ({ ok: true, result });
    switch (method) {
      case 'getMe':
        return ok(this.botInfo);
      case 'deleteWebhook':
      case 'setWebhook':
      case 'setMyCommands':
      case 'answerCallbackQuery':
      case 'leaveChat':
        return ok(true);
      case 'getUpdates':
        return ok(await this.updatesFor(payload, request));
      case 'sendMessage':
      case 'sendPhoto':
      case 'sendDocument': {
        const failed = method === 'sendMessage' ? this.options.failSend?.(payload) : undefined;
        if (failed) return { ok: false, ...failed };
        const message = this.keep(payload, files);
        return ok({ message_id: message.message_id, date: now(), chat: { id: message.chatId, type: 'private' }, ...(message.text ? { text: message.text } : {}) });
      }
      case 'editMessageText': {
        const message = this.messages.get(Number(payload.message_id));
        if (!message || message.deleted) return { ok: false, error_code: 400, description: 'Bad Request: message to edit not found' };
        message.text = String(payload.text);
        message.buttons = buttonsOf(payload.reply_markup);
        return ok({ message_id: message.message_id, date: now(), chat: { id: message.chatId, type: 'private' }, text: message.text });
      }
      case 'deleteMessage': {
        const id = Number(payload.message_id);
        if (this.options.undeletable?.has(id)) return { ok: false, error_code: 400, description: "Bad Request: message can't be deleted" };
        const message = this.messages.get(id);
        if (message) message.deleted = true;
        return ok(true);
      }
      case 'getFile': {
        const known = this.files.get(String(payload.file_id));
        if (!known) return { ok: false, error_code: 400, description: 'Bad Request: invalid file_id' };
        return ok({ file_id: payload.file_id, file_unique_id: `u${String(payload.file_id)}`, file_size: known.bytes.length, file_path: known.path });
      }
      default:
        return { ok: false, error_code: 404, description: `Not Found: method ${method} is not in the stand-in` };
    }
  }

  private keep(payload: Record<string, unknown>, files: Record<string, UploadedFile>): BotMessage {
    const message: BotMessage = {
      message_id: this.nextMessageId++,
      chatId: Number(payload.chat_id),
      text: String(payload.text ?? payload.caption ?? ''),
      buttons: buttonsOf(payload.reply_markup),
      deleted: false,
      ...(files.photo ? { photo: files.photo } : {}),
      ...(files.document ? { document: files.document } : {}),
    };
    this.messages.set(message.message_id, message);
    return message;
  }

  /** Long polling: what is queued at or after the offset, or a wait until something is (or the timeout). */
  private async updatesFor(payload: Record<string, unknown>, request: IncomingMessage): Promise<Update[]> {
    const offset = Number(payload.offset ?? 0);
    if (offset > this.confirmedOffset) {
      this.confirmedOffset = offset;
      while (this.updates.length > 0 && this.updates[0]!.update_id < offset) this.updates.shift();
    }
    const limit = Math.min(100, Number(payload.limit ?? 100) || 100);
    const timeoutMs = Math.min(30, Number(payload.timeout ?? 0)) * 1000;
    const ready = () => this.updates.filter((u) => u.update_id >= offset).slice(0, limit);
    if (ready().length > 0 || timeoutMs === 0 || this.closed) return ready();
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        request.off('close', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.wakers.add(done);
      request.once('close', done);
    });
    return ready();
  }

  private serveFile(token: string, path: string, response: ServerResponse): void {
    if (token !== this.token) return reply(response, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
    const known = [...this.files.values()].find((f) => f.path === path);
    if (!known) return reply(response, 404, { ok: false, error_code: 404, description: 'Not Found' });
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': known.bytes.length });
    response.end(known.bytes);
  }
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent || response.destroyed) return;
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

function buttonsOf(markup: unknown): BotMessage['buttons'] {
  const parsed = typeof markup === 'string' ? JSON.parse(markup) : markup;
  const rows = (parsed as { inline_keyboard?: Array<Array<{ text: string; callback_data?: string }>> } | undefined)?.inline_keyboard ?? [];
  return rows.map((row) => row.map((b) => ({ text: b.text, data: b.callback_data ?? '' })));
}

/** A call's parameters: JSON, a query string, or multipart (files resolved from their attach:// names). */
async function readPayload(request: IncomingMessage): Promise<{ payload: Record<string, unknown>; files: Record<string, UploadedFile> }> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const type = request.headers['content-type'] ?? '';
  const query = Object.fromEntries(new URL(request.url ?? '/', 'http://x').searchParams);
  if (type.startsWith('application/json')) return { payload: { ...query, ...(body.length ? JSON.parse(body.toString('utf8')) : {}) }, files: {} };
  if (!type.startsWith('multipart/form-data')) return { payload: query, files: {} };
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(type);
  const payload: Record<string, unknown> = { ...query };
  const parts = new Map<string, UploadedFile>();
  for (const part of multipartParts(body, boundary?.[1] ?? boundary?.[2] ?? '')) {
    if (part.fileName === undefined) payload[part.name] = part.bytes.toString('utf8');
    else parts.set(part.name, { bytes: part.bytes, name: part.fileName, type: part.type });
  }
  const files: Record<string, UploadedFile> = {};
  for (const [key, value] of Object.entries(payload)) {
    if (typeof value !== 'string' || !value.startsWith('attach://')) continue;
    const part = parts.get(value.slice('attach://'.length));
    if (part) files[key] = part;
  }
  return { payload, files };
}

/** The parts of a multipart/form-data body (as grammY writes it: CRLF line ends, one boundary). */
function multipartParts(body: Buffer, boundary: string): Array<{ name: string; fileName: string | undefined; type: string; bytes: Buffer }> {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Array<{ name: string; fileName: string | undefined; type: string; bytes: Buffer }> = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    const part = body.subarray(start + 2, next - 2);
    const split = part.indexOf('\r\n\r\n');
    const headers = part.subarray(0, split).toString('utf8');
    const name = /;\s*name="([^"]*)"/.exec(headers)?.[1] ?? '';
    // grammY writes the file name without quotes.
    const quoted = /filename=(?:"([^"]*)"|([^;\r\n]*))/.exec(headers);
    const fileName = quoted ? (quoted[1] ?? quoted[2]) : undefined;
    const type = /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1] ?? 'application/octet-stream';
    parts.push({ name, fileName, type, bytes: Buffer.from(part.subarray(split + 4)) });
    at = next;
  }
  return parts;
}
