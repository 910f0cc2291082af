import type { Logger } from 'pino';
import type { AttemptLimiter } from '../../lib/attempt-limiter.js';
import { KeeperFailure } from '../core/failures.js';
import type { Spool } from '../core/spool.js';
import type { Caller, HeldUser, HeldUsers } from '../users/held-users.js';
import type { Buttons, Telegram } from './telegram.js';
import type { Conversations } from './conversations.js';
import type { Incoming } from './incoming.js';
import type { LinkBook } from './link-book.js';
import type { SelfDestruct } from './self-destruct.js';

/** Limits on guessing, per Keeper login or user and per Telegram user (one Telegram account cannot try many logins). */
export interface BotLimits {
  loginPerName: AttemptLimiter;
  loginPerTelegramUser: AttemptLimiter;
  /** Every registration counts, not only failed ones. */
  registerPerTelegramUser: AttemptLimiter;
  unlockPerUser: AttemptLimiter;
  unlockPerTelegramUser: AttemptLimiter;
}

/** What every flow needs. */
export interface BotContext {
  users: HeldUsers;
  links: LinkBook;
  telegram: Telegram;
  conversations: Conversations;
  reveals: SelfDestruct;
  spool: Spool;
  limits: BotLimits;
  logger: Logger;
  /** Each linked chat's access token into `users` (issued at login or when the bot starts). */
  tokens: Map<number, string>;
  idleLockMinutes: number;
  /** Largest picture taken from a chat, in bytes. */
  maxPictureBytes: number;
  now: () => number;
}

/** One update being handled, and how to answer in its chat. */
export interface Turn {
  ctx: BotContext;
  incoming: Incoming;
  chatId: number;
  say(text: string, buttons?: Buttons): Promise<number>;
}

/** The Keeper user linked to the chat; only this user's vault is ever shown in it. */
export function callerOf(turn: Turn): Caller {
  const { ctx, chatId } = turn;
  const token = ctx.tokens.get(chatId);
  const caller = token === undefined ? undefined : ctx.users.caller(token);
  if (!caller) {
    // The link ended meanwhile (unused too long): the book forgets it as well.
    if (token !== undefined) forgetChat(ctx, chatId);
    throw new KeeperFailure('not-logged-in', 'not logged in');
  }
  ctx.links.touch(chatId, ctx.now());
  return caller;
}

export function userOf(turn: Turn): HeldUser {
  return callerOf(turn).user;
}

/** Links the chat to the user just logged in (or registered), ending the chat's earlier link. */
export async function linkChat(turn: Turn, entered: { user: HeldUser; token: string }): Promise<void> {
  const { ctx, chatId } = turn;
  const earlier = ctx.tokens.get(chatId);
  const caller = earlier === undefined ? undefined : ctx.users.caller(earlier);
  ctx.tokens.set(chatId, entered.token);
  const at = ctx.now();
  ctx.links.setLink({ chatId, telegramUserId: turn.incoming.userId, userId: entered.user.userId, login: entered.user.login, linkedAt: at, usedAt: at });
  if (caller) await ctx.users.logout(caller);
}

/** Ends the chat's link: its token, its revealed messages, its conversation; the user's server session ends with their last chat. */
export async function unlinkChat(ctx: BotContext, chatId: number): Promise<void> {
  const token = ctx.tokens.get(chatId);
  const caller = token === undefined ? undefined : ctx.users.caller(token);
  forgetChat(ctx, chatId);
  await ctx.reveals.purge(chatId);
  if (caller) await ctx.users.logout(caller);
}

function forgetChat(ctx: BotContext, chatId: number): void {
  ctx.tokens.delete(chatId);
  ctx.links.removeLink(chatId);
  ctx.conversations.end(chatId);
}
