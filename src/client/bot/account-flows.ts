import { z } from 'zod';
import { failureOf, KeeperFailure } from '../core/failures.js';
import { checkLimit, failedAttempt, goodAttempt, type LimitedKey } from '../core/attempt-limits.js';
import { callerOf, linkChat, unlinkChat, userOf, type Turn } from './bot-context.js';
import { failureText, HELP } from './texts.js';

const loginText = z.string().trim().min(1, 'the login is empty').max(200, 'a login is at most 200 characters').regex(/^\S+$/, 'a login has no spaces');
const secretText = z.string().min(1).max(1024, 'that is longer than any password or secret word Keeper takes');

/** Deletes the message that carried a password or a secret word at once, and says whether it could. */
async function takeSecretMessage(turn: Turn, what: string): Promise<void> {
  if (turn.incoming.kind !== 'text') return;
  const removed = await turn.ctx.telegram.remove(turn.chatId, turn.incoming.messageId).catch(() => false);
  await turn.say(removed ? `🗑 I deleted your message with the ${what}.` : `⚠️ I could not delete your message with the ${what}: please delete it yourself.`);
}

export async function start(turn: Turn): Promise<void> {
  const link = turn.ctx.links.link(turn.chatId);
  const hello = link && turn.ctx.tokens.has(turn.chatId) ? `Hello again: this chat sees the vault of ${link.login}.` : 'Hello! This chat is not linked to a Keeper account yet: /login or /register.';
  await turn.say(`${hello}\n\n${HELP}`);
}

export async function help(turn: Turn): Promise<void> {
  await turn.say(HELP);
}

export async function cancel(turn: Turn): Promise<void> {
  const had = turn.ctx.conversations.get(turn.chatId);
  turn.ctx.conversations.end(turn.chatId);
  await turn.say(had ? 'Cancelled; nothing was changed.' : 'There was nothing to cancel.');
}

/** /login and /register: the login, then the password (deleted as soon as read); both may come with the command. */
export async function beginEntry(turn: Turn, mode: 'login' | 'register', args: string): Promise<void> {
  const [login, ...rest] = args.split(/\s+/).filter((part) => part.length > 0);
  if (login === undefined) {
    turn.ctx.conversations.set(turn.chatId, { step: 'login-name', mode });
    await turn.say(mode === 'login' ? 'Your Keeper login?' : 'Which login would you like? (letters, digits and . _ @ -)');
    return;
  }
  if (rest.length > 0) return finishEntry(turn, mode, login, rest.join(' '));
  return takeLogin(turn, mode, login);
}

export async function takeLogin(turn: Turn, mode: 'login' | 'register', text: string): Promise<void> {
  const login = loginText.safeParse(text);
  if (!login.success) {
    await turn.say(`${login.error.issues[0]!.message}; send the login again, or /cancel.`);
    return;
  }
  turn.ctx.conversations.set(turn.chatId, { step: 'password', mode, login: login.data });
  await turn.say(`${mode === 'login' ? 'Now your password' : 'Now choose a password (at least 10 characters)'}. I will delete your message as soon as I have read it.`);
}

export async function finishEntry(turn: Turn, mode: 'login' | 'register', login: string, password: string): Promise<void> {
  const { ctx } = turn;
  ctx.conversations.end(turn.chatId);
  await takeSecretMessage(turn, 'password');
  if (!secretText.safeParse(password).success) {
    await turn.say('That password is longer than Keeper takes; nothing was sent. /login to try again.');
    return;
  }
  const telegramKey = String(turn.incoming.userId);
  const keys: LimitedKey[] =
    mode === 'login'
      ? [
          [ctx.limits.loginPerName, login.toLowerCase()],
          [ctx.limits.loginPerTelegramUser, telegramKey],
        ]
      : [[ctx.limits.registerPerTelegramUser, telegramKey]];
  checkLimit(keys);
  if (mode === 'register') failedAttempt(keys);
  let entered;
  try {
    entered = mode === 'login' ? await ctx.users.login(login, password) : await ctx.users.register(login, password);
  } catch (error) {
    const failure = failureOf(error);
    if (mode === 'login' && failure.kind === 'refused') {
      failedAttempt(keys);
      await turn.say('The login or the password is wrong. /login to try again.');
      return;
    }
    if (mode === 'register' && failure.kind === 'conflict') {
      await turn.say('That login is taken; /register with another.');
      return;
    }
    throw failure;
  }
  if (mode === 'login') goodAttempt(keys.slice(0, 1));
  await linkChat(turn, entered);
  const handle = await entered.user.vault();
  const count = handle.vault.records().length;
  const lines = [`✅ ${mode === 'login' ? 'Logged in' : 'Registered and logged in'} as ${entered.user.login}: this chat now sees your vault (${count === 1 ? '1 record' : `${count} records`}). /list shows them.`];
  if (handle.vault.encrypted && !handle.vault.unlocked) lines.push('Your vault is encrypted: /unlock it to see sealed values.');
  await turn.say(lines.join('\n'));
}

export async function beginUnlock(turn: Turn, args: string): Promise<void> {
  const user = userOf(turn);
  const handle = await user.vault();
  if (!handle.vault.encrypted) {
    if (args) await takeSecretMessage(turn, 'secret word');
    await turn.say('Your vault is not encrypted: there is nothing to unlock.');
    return;
  }
  if (args) return finishUnlock(turn, args);
  turn.ctx.conversations.set(turn.chatId, { step: 'secret' });
  await turn.say('Send your secret word. I will delete your message as soon as I have read it.');
}

export async function finishUnlock(turn: Turn, secret: string): Promise<void> {
  const { ctx } = turn;
  ctx.conversations.end(turn.chatId);
  await takeSecretMessage(turn, 'secret word');
  const user = userOf(turn);
  const keys: LimitedKey[] = [
    [ctx.limits.unlockPerUser, user.userId],
    [ctx.limits.unlockPerTelegramUser, String(turn.incoming.userId)],
  ];
  checkLimit(keys);
  try {
    if (!secretText.safeParse(secret).success) throw new KeeperFailure('wrong-secret', 'wrong secret word');
    await user.unlock(secret);
  } catch (error) {
    const failure = failureOf(error);
    if (failure.kind !== 'wrong-secret') throw failure;
    failedAttempt(keys);
    await turn.say('The secret word is wrong; nothing was changed. /unlock to try again.');
    return;
  }
  goodAttempt(keys.slice(0, 1));
  await turn.say(`🔓 Unlocked: sealed values show until /lock, or until ${ctx.idleLockMinutes} idle minutes lock the vault again.`);
}

export async function lock(turn: Turn): Promise<void> {
  const user = userOf(turn);
  await turn.ctx.reveals.purge(turn.chatId);
  await user.lock();
  const handle = await user.vault();
  await turn.say(handle.vault.encrypted ? '🔒 Locked: sealed values stay hidden until /unlock.' : 'Your vault is not encrypted: there is nothing to lock. (Revealed messages were deleted.)');
}

export async function status(turn: Turn): Promise<void> {
  const { user } = callerOf(turn);
  const handle = await user.vault();
  user.refreshSoon();
  const vault = handle.vault;
  const lastSync = user.sync.lastSyncAt === null ? 'never' : `${new Date(user.sync.lastSyncAt).toISOString().slice(11, 19)} UTC`;
  const lines = [
    `Logged in as ${user.login}.`,
    `Records: ${vault.records().length} · version ${vault.version} · ${vault.pendingCount === 0 ? 'nothing waiting to be sent' : `${vault.pendingCount} changes waiting to be sent`}`,
    `Encryption: ${vault.encrypted ? (vault.unlocked ? `on, unlocked (locks itself after ${turn.ctx.idleLockMinutes} idle minutes)` : 'on, locked') : 'off'}`,
    `Last sync: ${lastSync}${user.sync.stale ? ' (the server could not be reached)' : ''}`,
  ];
  await turn.say(lines.join('\n'));
}

export async function sync(turn: Turn): Promise<void> {
  const user = userOf(turn);
  const outcome = await user.syncNow();
  if (!outcome.online) {
    await turn.say(failureText(outcome.failure));
    return;
  }
  const { report } = outcome;
  const lines = [`🔄 Synced: version ${report.version}, ${report.pulled} changes pulled, ${report.pushed} pushed.`];
  if (report.conflicts.length > 0) lines.push(`${report.conflicts.length} conflicting edits: the losing values are kept as conflict copies.`);
  await turn.say(lines.join('\n'));
}

export async function logout(turn: Turn): Promise<void> {
  const link = turn.ctx.links.link(turn.chatId);
  callerOf(turn);
  await unlinkChat(turn.ctx, turn.chatId);
  await turn.say(`👋 Logged out: this chat no longer sees the vault of ${link?.login ?? 'your account'}.`);
}
