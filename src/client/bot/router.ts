import { KeyedQueue } from '../../lib/keyed-queue.js';
import { RateLimiter } from '../../lib/rate-limiter.js';
import { failureOf } from '../core/failures.js';
import * as account from './account-flows.js';
import { unlinkChat, type BotContext, type Turn } from './bot-context.js';
import { readAction, type Action } from './buttons.js';
import { readCommand, readUpdate, type Incoming } from './incoming.js';
import { askPhoto, attachPicture } from './photo-attach.js';
import * as editing from './record-editing.js';
import * as records from './record-flows.js';
import { telegramProblem } from './telegram.js';
import { failureText } from './texts.js';

/** A chat told it is too fast is not told again for this long. */
const WARN_EVERY_MS = 30_000;

const COMMANDS: Record<string, (turn: Turn, args: string) => Promise<void>> = {
  start: (turn) => account.start(turn),
  help: (turn) => account.help(turn),
  cancel: (turn) => account.cancel(turn),
  login: (turn, args) => account.beginEntry(turn, 'login', args),
  register: (turn, args) => account.beginEntry(turn, 'register', args),
  logout: (turn) => account.logout(turn),
  unlock: (turn, args) => account.beginUnlock(turn, args),
  lock: (turn) => account.lock(turn),
  status: (turn) => account.status(turn),
  sync: (turn) => account.sync(turn),
  list: (turn) => records.list(turn),
  search: (turn, args) => records.search(turn, args),
  add: (turn, args) => editing.beginAdd(turn, args),
};

/** The commands as Telegram's menu shows them. */
export const COMMAND_MENU = [
  { command: 'list', description: 'your records, a page at a time' },
  { command: 'search', description: 'records holding a text' },
  { command: 'add', description: 'a new record' },
  { command: 'unlock', description: 'open an encrypted vault' },
  { command: 'lock', description: 'close it again' },
  { command: 'status', description: 'where your vault stands' },
  { command: 'sync', description: 'sync now' },
  { command: 'login', description: 'link this chat to your account' },
  { command: 'register', description: 'make an account' },
  { command: 'logout', description: 'unlink this chat' },
  { command: 'help', description: 'what I do' },
];

/**
 * Every update goes through here: private chats only, the allowlist, a rate limit per chat, then
 * the chat's queue (a chat's updates in order, chats side by side), then the flow it asks for.
 * Every failure becomes one sentence in the chat; nothing a user typed reaches the log.
 */
export class BotRouter {
  private readonly queue: KeyedQueue<number>;
  private readonly rate: RateLimiter<number>;
  private readonly warned = new Map<number, number>();
  private readonly allow: ReadonlySet<string>;

  constructor(
    private readonly ctx: BotContext,
    options: { allow: readonly string[]; ratePerMinute: number },
  ) {
    this.allow = new Set(options.allow);
    this.rate = new RateLimiter(options.ratePerMinute, 100_000, ctx.now);
    // A burst the rate limit lets through is queued whole; the bound only stops what it would not.
    this.queue = new KeyedQueue(options.ratePerMinute + 1);
  }

  /** Takes an update (from polling or the webhook) and returns at once; the work runs on the chat's queue. */
  accept(raw: unknown): void {
    const incoming = readUpdate(raw);
    if (!incoming) {
      this.ctx.logger.debug('an update the bot does not act on');
      return;
    }
    const wait = this.rate.take(incoming.chatId);
    if (wait > 0) {
      this.tooFast(incoming, wait);
      return;
    }
    const queued = this.queue.run(incoming.chatId, () => this.handle(incoming));
    if (!queued) this.tooFast(incoming, WARN_EVERY_MS);
  }

  /** Resolves when every update taken so far has been handled. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  private tooFast(incoming: Incoming, waitMs: number): void {
    const at = this.ctx.now();
    if (incoming.kind === 'button') void this.ctx.telegram.answer(incoming.queryId, 'Too fast; wait a moment.').catch(() => undefined);
    if ((this.warned.get(incoming.chatId) ?? 0) > at) return;
    this.warned.set(incoming.chatId, at + WARN_EVERY_MS);
    if (this.warned.size > 10_000) this.warned.delete(this.warned.keys().next().value!);
    this.ctx.logger.info({ chatType: incoming.chatType }, 'a chat was slowed down');
    void this.ctx.telegram.send(incoming.chatId, `You are sending faster than I answer; I will answer again in ${Math.ceil(waitMs / 1000)} s.`).catch(() => undefined);
  }

  private async handle(incoming: Incoming): Promise<void> {
    const started = this.ctx.now();
    const turn: Turn = { ctx: this.ctx, incoming, chatId: incoming.chatId, say: (text, buttons) => this.ctx.telegram.send(incoming.chatId, text, buttons) };
    try {
      if (incoming.kind === 'button') await this.ctx.telegram.answer(incoming.queryId);
      if (incoming.chatType !== 'private') return await this.refuseGroup(turn);
      if (this.allow.size > 0 && !this.allow.has(String(incoming.userId))) {
        await turn.say(`This Keeper bot is private: your Telegram account (id ${incoming.userId}) is not on its list. Ask whoever runs it to add you.`);
        return;
      }
      await this.route(turn);
    } catch (error) {
      await this.fail(turn, error);
    } finally {
      this.ctx.logger.info({ update: incoming.kind, ms: this.ctx.now() - started }, 'update handled');
    }
  }

  private async refuseGroup(turn: Turn): Promise<void> {
    await turn.say('I only work in a private chat with one person: a vault is not for a group. Open a chat with me directly; I am leaving this one.');
    await this.ctx.telegram.leave(turn.chatId).catch(() => undefined);
  }

  private async route(turn: Turn): Promise<void> {
    const { incoming } = turn;
    switch (incoming.kind) {
      case 'button':
        return this.press(turn, readAction(incoming.data));
      case 'picture':
        return attachPicture(turn, incoming);
      case 'other':
        return void (await turn.say('I take text, photos and picture files; /help lists what I do.'));
      case 'text': {
        const command = readCommand(incoming.text);
        if (command) {
          const run = COMMANDS[command.name];
          if (!run) return void (await turn.say(`I do not know /${command.name}; /help lists what I do.`));
          // A command leaves whatever question was open (it may open its own).
          if (command.name !== 'cancel') this.ctx.conversations.end(turn.chatId);
          return run(turn, command.args);
        }
        return this.answerStep(turn, incoming.text);
      }
    }
  }

  /** A message answering the chat's open question. */
  private async answerStep(turn: Turn, text: string): Promise<void> {
    const step = this.ctx.conversations.get(turn.chatId);
    switch (step?.step) {
      case undefined:
        return void (await turn.say('Send a command: /help lists them (/search TEXT finds records).'));
      case 'login-name':
        return account.takeLogin(turn, step.mode, text);
      case 'password':
        return account.finishEntry(turn, step.mode, step.login, text);
      case 'secret':
        return account.finishUnlock(turn, text);
      case 'add-name':
        return editing.takeName(turn, step.kind, text);
      case 'add-fields':
        return editing.takeFieldOfNew(turn, step, text);
      case 'field-value':
      case 'rename':
      case 'new-field':
        return editing.takeEdit(turn, step, text);
      case 'confirm':
        return void (await turn.say('Press Save or Cancel above, or /cancel.'));
      case 'photo':
        return void (await turn.say('Send the photo (or /cancel).'));
    }
  }

  private async press(turn: Turn, action: Action | undefined): Promise<void> {
    if (!action) return void (await turn.say('That button is no longer valid; /list to start again.'));
    switch (action.type) {
      case 'page':
        return records.turnPage(turn, action.args[1]);
      case 'show':
        return records.show(turn, action.args[1]);
      case 'reveal':
        return records.reveal(turn, action.args[1]);
      case 'delete':
        return records.askDelete(turn, action.args[1]);
      case 'deleteYes':
        return records.remove(turn, action.args[1]);
      case 'covers':
        return records.covers(turn, action.args[1]);
      case 'compact':
        return records.compact(turn, action.args[1]);
      case 'attach':
        return askPhoto(turn, action.args[1]);
      case 'edit':
        return editing.editMenu(turn, action.args[1]);
      case 'editField':
        return editing.askFieldValue(turn, action.args[1], action.args[2]);
      case 'rename':
        return editing.askRename(turn, action.args[1]);
      case 'addField':
        return editing.askNewField(turn, action.args[1]);
      case 'removeField':
        return editing.askRemoveField(turn, action.args[1], action.args[2]);
      case 'addKind':
        return editing.chooseKind(turn, action.args[1]);
      case 'cancel':
        this.ctx.conversations.end(turn.chatId);
        return void (await turn.say('Cancelled; nothing was changed.'));
      case 'save': {
        const step = this.ctx.conversations.get(turn.chatId);
        if (step?.step === 'confirm') return editing.saveChange(turn, step.change);
        if (step?.step === 'add-fields') return editing.saveNew(turn, step);
        return void (await turn.say('Nothing is waiting to be saved (a question left for 5 minutes is dropped).'));
      }
    }
  }

  private async fail(turn: Turn, error: unknown): Promise<void> {
    const failure = failureOf(error);
    const telegram = telegramProblem(error);
    if (telegram.method) {
      // Telegram refused a call (the user blocked the bot, say): there is no chat to tell.
      this.ctx.logger.warn({ telegram }, 'Telegram refused a call');
      return;
    }
    if (failure.kind === 'session-ended') await unlinkChat(this.ctx, turn.chatId).catch(() => undefined);
    if (failure.kind === 'failed') this.ctx.logger.error({ err: error, update: turn.incoming.kind }, 'an update failed');
    else if (failure.kind === 'offline' || failure.kind === 'unavailable') this.ctx.logger.warn({ reason: failure.detail.transport ?? failure.kind }, 'the Keeper server could not be reached');
    try {
      await turn.say(failureText(failure));
    } catch (sayError) {
      this.ctx.logger.warn({ telegram: telegramProblem(sayError) }, 'a failure could not be told to its chat');
    }
  }
}
