import { formatBytes } from '../../../domain/byte-sizes.js';

export { formatBytes };

export function formatWhen(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

export function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString();
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
