import type { Logger } from 'pino';
import { telegramProblem, type Telegram } from './telegram.js';

/**
 * Messages that show revealed values and delete themselves after a while. Locking, logging out
 * and stopping the bot delete them at once: a revealed value never outlives the unlocked vault
 * that showed it.
 */
export class SelfDestruct {
  private readonly pending = new Map<number, Map<number, NodeJS.Timeout>>();

  constructor(
    private readonly telegram: Telegram,
    private readonly afterMs: number,
    private readonly logger: Logger,
  ) {}

  get afterSeconds(): number {
    return this.afterMs / 1000;
  }

  arm(chatId: number, messageId: number): void {
    const timer = setTimeout(() => void this.fire(chatId, messageId), this.afterMs);
    let chat = this.pending.get(chatId);
    if (!chat) this.pending.set(chatId, (chat = new Map()));
    chat.set(messageId, timer);
  }

  /** Deletes a chat's revealed messages now. */
  async purge(chatId: number): Promise<void> {
    const chat = this.pending.get(chatId);
    if (!chat) return;
    await Promise.all([...chat.keys()].map((messageId) => this.fire(chatId, messageId)));
  }

  async purgeAll(): Promise<void> {
    await Promise.all([...this.pending.keys()].map((chatId) => this.purge(chatId)));
  }

  private async fire(chatId: number, messageId: number): Promise<void> {
    const chat = this.pending.get(chatId);
    clearTimeout(chat?.get(messageId));
    chat?.delete(messageId);
    if (chat?.size === 0) this.pending.delete(chatId);
    try {
      await this.telegram.remove(chatId, messageId);
    } catch (error) {
      this.logger.warn({ telegram: telegramProblem(error) }, 'a revealed message could not be deleted');
    }
  }
}
