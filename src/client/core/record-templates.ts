import type { RecordKind } from '../../domain/record.js';

/**
 * Fields a new record of each kind starts with, in every face that makes records (the TUI's form,
 * the bot's /add): a name and whether its value is sensitive. A custom record starts with one
 * field the user names.
 */
export const TEMPLATES: Record<RecordKind, ReadonlyArray<readonly [name: string, sensitive: boolean]>> = {
  login: [
    ['user', false],
    ['password', true],
    ['url', false],
  ],
  card: [
    ['number', true],
    ['holder', false],
    ['expires', false],
    ['cvv', true],
  ],
  note: [['text', false]],
  custom: [['', false]],
};
