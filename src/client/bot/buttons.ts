import { z } from 'zod';
import { RECORD_KINDS } from '../../domain/limits.js';

/**
 * What an inline button does, carried in its callback data (at most 64 bytes, so ids and indexes
 * only, never a name or a value). Data coming back is checked like any input: a press of an old,
 * forged or foreign button is refused with a sentence, and a record id is looked up in the chat's
 * own vault only, so another user's id is simply not found.
 */
const uuid = z.uuid().transform((id) => id.toLowerCase());
const index = z.coerce.number().int().min(0).max(99);

const actions = {
  /** A page of /list. */
  page: z.tuple([z.literal('l'), z.coerce.number().int().min(0).max(100_000)]),
  show: z.tuple([z.literal('r'), uuid]),
  reveal: z.tuple([z.literal('v'), uuid]),
  edit: z.tuple([z.literal('e'), uuid]),
  editField: z.tuple([z.literal('ef'), uuid, index]),
  rename: z.tuple([z.literal('en'), uuid]),
  addField: z.tuple([z.literal('ea'), uuid]),
  removeField: z.tuple([z.literal('ex'), uuid, index]),
  /** Asks before deleting; `deleteYes` deletes. */
  delete: z.tuple([z.literal('d'), uuid]),
  deleteYes: z.tuple([z.literal('dy'), uuid]),
  covers: z.tuple([z.literal('c'), uuid]),
  compact: z.tuple([z.literal('k'), uuid]),
  attach: z.tuple([z.literal('p'), uuid]),
  addKind: z.tuple([z.literal('ak'), z.enum(RECORD_KINDS)]),
  /** Saves what the chat's conversation holds (a new record, a change). */
  save: z.tuple([z.literal('ok')]),
  cancel: z.tuple([z.literal('no')]),
} as const;

type Actions = typeof actions;
export type Action = { [K in keyof Actions]: { type: K; args: z.output<Actions[K]> } }[keyof Actions];

const byTag = new Map<string, keyof Actions>(Object.entries(actions).map(([type, schema]) => [(schema.def.items[0] as z.ZodLiteral<string>).value, type as keyof Actions]));

/** A button's data: its tag and arguments, colon-separated. */
export function data(...parts: Array<string | number>): string {
  return parts.join(':');
}

export function readAction(raw: string): Action | undefined {
  const parts = raw.split(':');
  const type = byTag.get(parts[0] ?? '');
  if (!type) return undefined;
  const parsed = actions[type].safeParse(parts);
  return parsed.success ? ({ type, args: parsed.data } as Action) : undefined;
}
