import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBotConfig } from '../../src/config/bot-config.js';
import { startBot, type BotOverrides, type RunningBot } from '../../src/client/bot/start-bot.js';
import { createLogger } from '../../src/logging.js';
import { TelegramStandIn, type BotMessage, type TelegramChat, type TelegramUser } from './telegram-stand-in.js';

export interface TestBot {
  bot: RunningBot;
  /** KEEPER_HOME of the bot (its data under bot/). */
  home: string;
  /** Every line the bot logged (at trace), for what must never be in them. */
  logText(): Promise<string>;
  /** Stops the bot and starts it again on the same data directory (a restart). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A Keeper bot polling `standIn` over the Keeper server at `server`, with its data in a new
 * directory and a trace-level log in a file. `settings` are the bot's flags; `env` adds variables.
 */
export async function startTestBot(standIn: TelegramStandIn, server: string, settings: Record<string, unknown> = {}, env: Record<string, string> = {}, overrides: BotOverrides = {}): Promise<TestBot> {
  const home = await mkdtemp(join(tmpdir(), 'keeper-bot-'));
  const logFile = join(home, 'bot.log');
  const config = loadBotConfig({ server, home, apiRoot: standIn.apiRoot, ...settings }, { KEEPER_TELEGRAM_TOKEN: standIn.token, ...env });
  const logger = createLogger('trace', 'keeper-bot', logFile);
  const start = () => startBot(config, logger, { refreshMs: 200, ...overrides });
  let bot = await start();
  let closed = false;
  const handle: TestBot = {
    bot,
    home,
    logText: () => readFile(logFile, 'utf8').catch(() => ''),
    async restart() {
      await bot.stop();
      bot = await start();
      handle.bot = bot;
    },
    async close() {
      if (closed) return;
      closed = true;
      await bot.stop();
      await rm(home, { recursive: true, force: true });
    },
  };
  return handle;
}

/** One person's private chat with the bot, as the tests drive it. */
export class TestChat {
  readonly who: { chat: TelegramChat; from: TelegramUser };

  constructor(
    readonly standIn: TelegramStandIn,
    readonly id: number,
    who?: { chat: TelegramChat; from: TelegramUser },
  ) {
    this.who = who ?? TelegramStandIn.privateChat(id);
  }

  /** Sends a text; the mark from which to look for the answers. */
  send(text: string): { mark: number; messageId: number } {
    const mark = this.standIn.mark();
    return { mark, messageId: this.standIn.sendText(this.who, text) };
  }

  /** Sends a text and waits for the bot's message matching `answer`. */
  async ask(text: string, answer: RegExp = /./, timeoutMs?: number): Promise<BotMessage> {
    const { mark } = this.send(text);
    return this.standIn.nextMessage(this.id, answer, { after: mark, ...(timeoutMs ? { timeoutMs } : {}) });
  }

  /** Presses a button (by its label) under `message` and waits for the answer matching `answer`. */
  async press(message: BotMessage, label: RegExp, answer: RegExp = /./): Promise<BotMessage> {
    const mark = this.standIn.mark();
    this.standIn.pressLabel(this.who, message, label);
    return this.standIn.nextMessage(this.id, answer, { after: mark });
  }

  /** Sends a photo and waits for the answer matching `answer`. */
  async photo(bytes: Buffer, answer: RegExp, caption?: string): Promise<BotMessage> {
    const mark = this.standIn.mark();
    this.standIn.sendPhoto(this.who, bytes, caption ? { caption } : {});
    return this.standIn.nextMessage(this.id, answer, { after: mark, timeoutMs: 20_000 });
  }
}
