import { formatBytes } from '../../../domain/byte-sizes.js';

export { formatBytes };

// One formatter each, made once: toLocaleString makes a new one per call, which a list of a
// hundred rows redrawn at every key of a search can feel.
const WHEN = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'short' });
const TIME = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

export function formatWhen(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : WHEN.format(date);
}

export function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : TIME.format(date);
}

/** A record's name as shown: a sealed one while locked has none to show. */
export function shownName(name: string | null): string {
  return name ?? '(sealed name)';
}

export function minutes(seconds: number): string {
  if (seconds < 60) return `${seconds} seconds`;
  const m = Math.round(seconds / 60);
  return m === 1 ? '1 minute' : `${m} minutes`;
}
