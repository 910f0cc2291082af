import type { Field } from '../../domain/record.js';

/** How a sensitive value shows until the user asks to see it, in every face. */
export const MASK = '********';

export function maskField(field: Field, reveal: boolean): string {
  return field.sensitive && !reveal ? MASK : field.value;
}
