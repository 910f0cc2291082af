import type { RecordKind } from './record.js';

/**
 * Fields a new record of each kind starts with, as [name, sensitive]: every face offers the same
 * ones (the TUI's form, the bot's /add, the web page through the agent's GET /v1/kinds). A custom record starts
 * with one field the user names.
 */
export const RECORD_TEMPLATES: Record<RecordKind, ReadonlyArray<readonly [name: string, sensitive: boolean]>> = {
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
