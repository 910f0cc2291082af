import type { Field, RecordKind } from '../../domain/record.js';

/** A change to a record waiting for the user's Save (edits are confirmed before they are pushed). */
export interface PendingChange {
  recordId: string;
  name?: string;
  setFields?: Field[];
  removeFields?: string[];
}

/** What a chat's next message (or press of Save) answers. */
export type Step =
  | { step: 'login-name'; mode: 'login' | 'register' }
  | { step: 'password'; mode: 'login' | 'register'; login: string }
  | { step: 'secret' }
  | { step: 'add-name'; kind: RecordKind }
  /** The template field at `next` is asked next; past the template, more fields as name=value until Save. */
  | { step: 'add-fields'; kind: RecordKind; name: string; fields: Field[]; next: number }
  | { step: 'field-value'; recordId: string; field: string; sensitive: boolean }
  | { step: 'rename'; recordId: string }
  | { step: 'new-field'; recordId: string }
  | { step: 'confirm'; change: PendingChange }
  | { step: 'photo'; recordId: string };

/** A question left unanswered this long is dropped: a password typed an hour later is not taken for one. */
const EXPIRES_MS = 5 * 60_000;
const MAX_CHATS = 100_000;

/** Each chat's conversation: at most one step waiting, in memory only (a restart starts every chat afresh). */
export class Conversations {
  private readonly steps = new Map<number, { step: Step; at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  get(chatId: number): Step | undefined {
    const entry = this.steps.get(chatId);
    if (!entry) return undefined;
    if (this.now() - entry.at > EXPIRES_MS) {
      this.steps.delete(chatId);
      return undefined;
    }
    return entry.step;
  }

  set(chatId: number, step: Step): void {
    this.steps.delete(chatId);
    this.steps.set(chatId, { step, at: this.now() });
    if (this.steps.size > MAX_CHATS) this.steps.delete(this.steps.keys().next().value!);
  }

  end(chatId: number): void {
    this.steps.delete(chatId);
  }
}
