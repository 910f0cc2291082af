import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Bot } from 'grammy';
import type { Logger } from 'pino';
import type { BotConfig } from '../../config/bot-config.js';
import { ConfigError } from '../../config/env.js';
import { AttemptLimiter } from '../../lib/attempt-limiter.js';
import { makeDirectory } from '../../lib/writable-dir.js';
import { Spool } from '../core/spool.js';
import { HeldUsers } from '../users/held-users.js';
import type { BotContext, BotLimits } from './bot-context.js';
import { Conversations } from './conversations.js';
import { LinkBook } from './link-book.js';
import { BotRouter, COMMAND_MENU } from './router.js';
import { SelfDestruct } from './self-destruct.js';
import { grammyTelegram, telegramProblem } from './telegram.js';
import { startWebhook, type WebhookServer } from './webhook.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** Telegram hands bots files of up to 20 MB. */
const MAX_PICTURE_BYTES = 20_000_000;
/** How long a stop waits for updates being handled before it closes the users under them. */
const DRAIN_MS = 10_000;

export interface RunningBot {
  /** The bot's Telegram username, as getMe tells it. */
  username: string;
  users: HeldUsers;
  links: LinkBook;
  /** The webhook's address when the bot takes updates that way. */
  webhook: WebhookServer | undefined;
  /** The secret Telegram sends back with each webhook call (made at start unless configured). */
  webhookSecret: string | undefined;
  stop(): Promise<void>;
}

export interface BotOverrides {
  clientId?: string;
  refreshMs?: number;
  now?: () => number;
  /** Told when polling stops for good (the token was revoked, another instance polls): the process should end. */
  onFatal?: (error: Error) => void;
}

/** Telegram's refusal of the token or of polling, in a sentence that never holds the token (a refused token is a bad setting). */
export function telegramRefusal(error: unknown): Error {
  const problem = telegramProblem(error);
  if (problem.code === 401) return new ConfigError('invalid configuration: Telegram refused the token in KEEPER_TELEGRAM_TOKEN (401 Unauthorized); check it with BotFather');
  if (problem.code === 409) return new Error('Telegram says another instance of this bot is taking its updates (409 Conflict): stop the other one, or its webhook');
  return new Error(`Telegram could not be used: ${problem.description ?? (error instanceof Error ? error.name : 'unknown error')}`);
}

/**
 * Chats linked before the restart get their link back (never an unlocked vault). Links unused too
 * long end, and a user left with no link has their server session ended too.
 */
async function restoreLinks(links: LinkBook, users: HeldUsers, tokens: Map<number, string>, linkMs: number, now: number): Promise<void> {
  const ended = new Set<string>();
  for (const link of links.all()) {
    const session = links.session(link.userId);
    if (!session || now - link.usedAt > linkMs) {
      links.removeLink(link.chatId);
      ended.add(link.userId);
      continue;
    }
    tokens.set(link.chatId, users.resume(session).token);
  }
  const linked = new Set(links.all().map((link) => link.userId));
  for (const userId of ended) {
    const session = links.session(userId);
    if (linked.has(userId) || !session) continue;
    // Logging out needs the session once more; logged out, it leaves the book by itself.
    const { user, token } = users.resume(session);
    await users.logout({ user, token });
  }
}

/** The bot's composition root: the users over the configured server, the chats' links, grammY taking updates. */
export async function startBot(config: BotConfig, logger: Logger, overrides: BotOverrides = {}): Promise<RunningBot> {
  const now = overrides.now ?? Date.now;
  await makeDirectory(config.dataDir, 0o700);
  const links = await LinkBook.open(config.dataDir, config.linksKeyFile, logger);
  const users = new HeldUsers({
    channel: { server: config.server, tls: config.tls, tlsCa: config.tlsCa },
    home: config.dataDir,
    timeoutMs: config.timeoutMs,
    clientId: overrides.clientId ?? 'keeper-bot',
    // A link ends when unused for linkDays; it has no other end of its own (the server's session rules still hold).
    tokens: { idleMs: config.linkDays * DAY, absoluteMs: 100 * 365 * DAY },
    idleLockMs: config.idleLockMinutes * MINUTE,
    maxOpen: config.maxUsers,
    refreshMs: overrides.refreshMs ?? 2_000,
    onSession: (userId, session) => links.setSession(userId, session),
    now,
  });
  const bot = new Bot(config.token, { client: { apiRoot: config.apiRoot } });
  const telegram = grammyTelegram(bot.api, config.apiRoot, config.token);
  const perAccount = { free: 5, windowMs: 15 * MINUTE, baseDelayMs: 1_000, maxDelayMs: 5 * MINUTE, maxKeys: 100_000 };
  const limits: BotLimits = {
    loginPerName: new AttemptLimiter(perAccount, now),
    loginPerTelegramUser: new AttemptLimiter({ ...perAccount, free: 10 }, now),
    registerPerTelegramUser: new AttemptLimiter({ free: 5, windowMs: 60 * MINUTE, baseDelayMs: 1_000, maxDelayMs: 10 * MINUTE, maxKeys: 100_000 }, now),
    unlockPerUser: new AttemptLimiter(perAccount, now),
    unlockPerTelegramUser: new AttemptLimiter({ ...perAccount, free: 10 }, now),
  };
  const ctx: BotContext = {
    users,
    links,
    telegram,
    conversations: new Conversations(now),
    reveals: new SelfDestruct(telegram, config.revealSeconds * 1000, logger),
    spool: await Spool.open(join(config.dataDir, 'spool')),
    limits,
    logger,
    tokens: new Map(),
    idleLockMinutes: config.idleLockMinutes,
    maxPictureBytes: MAX_PICTURE_BYTES,
    now,
  };
  await restoreLinks(links, users, ctx.tokens, config.linkDays * DAY, now());
  const router = new BotRouter(ctx, { allow: config.allow, ratePerMinute: config.ratePerMinute });
  bot.use((update) => router.accept(update.update));
  // The router catches everything itself; this is the last line should grammY meet something else.
  bot.catch((error) => logger.error({ err: error.error }, 'grammY could not hand over an update'));

  try {
    await bot.init();
  } catch (error) {
    await users.close({ endSessions: false });
    throw telegramRefusal(error);
  }
  await bot.api.setMyCommands(COMMAND_MENU).catch((error) => logger.warn({ telegram: telegramProblem(error) }, 'the command menu could not be set'));

  let stopping = false;
  let webhook: WebhookServer | undefined;
  let webhookSecret: string | undefined;
  if (config.webhookUrl) {
    webhookSecret = config.webhookSecret ?? randomBytes(32).toString('base64url');
    webhook = await startWebhook({ host: config.webhookHost, port: config.webhookPort, path: new URL(config.webhookUrl).pathname, secret: webhookSecret, accept: (update) => router.accept(update), logger });
    await bot.api.setWebhook(config.webhookUrl, { secret_token: webhookSecret, allowed_updates: ['message', 'callback_query'] });
  } else {
    bot
      .start({ allowed_updates: ['message', 'callback_query'] })
      .catch((error: unknown) => {
        // Stopping while polling starts up aborts its first calls: that is no refusal.
        if (stopping) return;
        logger.error({ telegram: telegramProblem(error) }, 'polling stopped');
        overrides.onFatal?.(telegramRefusal(error));
      });
  }

  return {
    username: bot.botInfo.username,
    users,
    links,
    webhook,
    webhookSecret,
    async stop() {
      stopping = true;
      if (webhook) await webhook.close();
      else if (bot.isRunning()) await bot.stop().catch((error: unknown) => logger.warn({ telegram: telegramProblem(error) }, 'polling did not stop cleanly'));
      await Promise.race([router.idle(), new Promise((resolve) => setTimeout(resolve, DRAIN_MS).unref())]);
      await ctx.reveals.purgeAll();
      // Sessions go on for the next start; every vault key is wiped now.
      await users.close({ endSessions: false });
      await links.flush();
    },
  };
}
