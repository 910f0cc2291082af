import { RECORD_KINDS } from '../../domain/limits.js';
import { inputFieldListSchema, inputRecordNameSchema, recordKindSchema, type Field, type RecordKind } from '../../domain/record.js';
import { KeeperFailure } from '../core/failures.js';
import { keepFieldKinds } from '../core/field-kinds.js';
import { liveRecord } from '../core/lookups.js';
import { MASK } from '../core/masking.js';
import { RECORD_TEMPLATES } from '../../domain/record-templates.js';
import { data } from './buttons.js';
import { userOf, type Turn } from './bot-context.js';
import type { PendingChange, Step } from './conversations.js';
import { show } from './record-flows.js';
import { cut, KIND_ICON, nameOf } from './texts.js';

type AddFields = Extract<Step, { step: 'add-fields' }>;

const SAVE_OR_CANCEL = [
  [
    { text: '💾 Save', data: data('ok') },
    { text: 'Cancel', data: data('no') },
  ],
];
const SENSITIVE_NOTE = ' (sensitive: I will delete your message as soon as I have read it)';
const FIELD_FORMAT = 'name=value (a name starting with ! makes the field sensitive, and I delete that message as soon as I have read it)';

/** The first problem zod found, as the bot says it. */
function problem(error: { issues: ReadonlyArray<{ message: string; path: PropertyKey[] }> }): string {
  const issue = error.issues[0]!;
  return issue.message;
}

/** A field typed as name=value (or !name=value for a sensitive one). */
function readField(text: string): Field | undefined {
  const match = /^(!?)([^=\n]+)=([\s\S]*)$/.exec(text);
  if (!match) return undefined;
  return { name: match[2]!.trim(), value: match[3]!, sensitive: match[1] === '!' };
}

/** Deletes the chat's message that held a sensitive value. */
async function takeSensitive(turn: Turn): Promise<void> {
  if (turn.incoming.kind !== 'text') return;
  const removed = await turn.ctx.telegram.remove(turn.chatId, turn.incoming.messageId).catch(() => false);
  if (!removed) await turn.say('⚠️ I could not delete your message with the sensitive value: please delete it yourself.');
}

/** New records need the key when the vault is encrypted (sensitive values are sealed here). */
async function unlockedVault(turn: Turn) {
  const user = userOf(turn);
  const handle = await user.vault();
  if (handle.vault.encrypted && !handle.vault.unlocked) throw new KeeperFailure('locked', 'locked');
  return { user, handle };
}

export async function beginAdd(turn: Turn, args: string): Promise<void> {
  await unlockedVault(turn);
  if (args) {
    const kind = recordKindSchema.safeParse(args.toLowerCase());
    if (!kind.success) {
      await turn.say(`A record is a ${RECORD_KINDS.join(', ')}; /add alone lets you choose.`);
      return;
    }
    return chooseKind(turn, kind.data);
  }
  await turn.say('What kind of record?', [RECORD_KINDS.map((kind) => ({ text: `${KIND_ICON[kind]} ${kind}`, data: data('ak', kind) }))]);
}

export async function chooseKind(turn: Turn, kind: RecordKind): Promise<void> {
  await unlockedVault(turn);
  turn.ctx.conversations.set(turn.chatId, { step: 'add-name', kind });
  await turn.say(`The name of the new ${kind}?`);
}

export async function takeName(turn: Turn, kind: RecordKind, text: string): Promise<void> {
  const name = inputRecordNameSchema.safeParse(text);
  if (!name.success) {
    await turn.say(`The name ${problem(name.error)}; send another, or /cancel.`);
    return;
  }
  const template = RECORD_TEMPLATES[kind];
  const step: AddFields = { step: 'add-fields', kind, name: name.data, fields: [], next: template.findIndex(([field]) => field === '') === 0 ? template.length : 0 };
  await askNextField(turn, step);
}

async function askNextField(turn: Turn, step: AddFields): Promise<void> {
  turn.ctx.conversations.set(turn.chatId, step);
  const template = RECORD_TEMPLATES[step.kind][step.next];
  if (template) {
    const [name, sensitive] = template;
    await turn.say(`${name}?${sensitive ? SENSITIVE_NOTE : ''} Send - to leave it out.`);
    return;
  }
  const so = step.fields.length === 0 ? 'No fields yet.' : `Fields: ${step.fields.map((field) => field.name).join(', ')}.`;
  await turn.say(`${so} Another field? Send it as ${FIELD_FORMAT}. Or press Save.`, SAVE_OR_CANCEL);
}

export async function takeFieldOfNew(turn: Turn, step: AddFields, text: string): Promise<void> {
  const template = RECORD_TEMPLATES[step.kind][step.next];
  let field: Field | undefined;
  if (template) {
    if (template[1]) await takeSensitive(turn);
    if (text.trim() !== '-') field = { name: template[0], value: text, sensitive: template[1] };
  } else {
    field = readField(text);
    if (field?.sensitive || (!field && text.includes('='))) await takeSensitive(turn);
    if (!field) {
      await turn.say(`Send the field as ${FIELD_FORMAT}, or press Save.`, SAVE_OR_CANCEL);
      return;
    }
  }
  const fields = field ? [...step.fields.filter((f) => f.name !== field.name), field] : step.fields;
  const checked = inputFieldListSchema.safeParse(fields);
  if (!checked.success) {
    await turn.say(`That field ${problem(checked.error)}; send it again, or /cancel.`);
    return;
  }
  await askNextField(turn, { ...step, fields: checked.data, next: template ? step.next + 1 : step.next });
}

export async function saveNew(turn: Turn, step: AddFields): Promise<void> {
  const { user, handle } = await unlockedVault(turn);
  turn.ctx.conversations.end(turn.chatId);
  const id = await handle.exclusive((vault) => vault.create({ kind: step.kind, name: step.name, fields: step.fields }));
  const outcome = await user.syncNow();
  await turn.say(`✅ Saved “${cut(step.name, 100)}”.${outcome.online ? '' : ' The server cannot be reached right now: it is sent at the next sync.'}`);
  await show(turn, id);
}

export async function editMenu(turn: Turn, id: string): Promise<void> {
  const handle = await userOf(turn).vault();
  const record = handle.vault.open(liveRecord(handle.vault, id));
  const rows = record.fields.slice(0, 20).map((field, index) => [
    { text: cut(`✏️ ${field.name}`, 40), data: data('ef', id, index) },
    { text: '✖ remove', data: data('ex', id, index) },
  ]);
  await turn.say(`Edit “${nameOf(record)}”: change a value, remove a field, rename it or add a field.`, [
    ...rows,
    [
      { text: '🏷 Rename', data: data('en', id) },
      { text: '➕ Add field', data: data('ea', id) },
    ],
  ]);
}

/** The field at `index` of the record as the chat saw it; a press after the record changed says so. */
function fieldAt(fields: Field[], index: number): Field {
  const field = fields[index];
  if (!field) throw new KeeperFailure('conflict', 'the record changed since that menu was shown; open it again');
  return field;
}

export async function askFieldValue(turn: Turn, id: string, index: number): Promise<void> {
  const handle = await userOf(turn).vault();
  const record = handle.vault.open(liveRecord(handle.vault, id));
  const field = fieldAt(record.fields, index);
  turn.ctx.conversations.set(turn.chatId, { step: 'field-value', recordId: id, field: field.name, sensitive: field.sensitive });
  await turn.say(`Send the new value of ${cut(field.name, 60)}${field.sensitive ? SENSITIVE_NOTE : ''}, or /cancel.`);
}

export async function askRename(turn: Turn, id: string): Promise<void> {
  const handle = await userOf(turn).vault();
  const record = handle.vault.open(liveRecord(handle.vault, id));
  turn.ctx.conversations.set(turn.chatId, { step: 'rename', recordId: id });
  await turn.say(`Send the new name of “${nameOf(record)}”, or /cancel.`);
}

export async function askNewField(turn: Turn, id: string): Promise<void> {
  const handle = await userOf(turn).vault();
  liveRecord(handle.vault, id);
  turn.ctx.conversations.set(turn.chatId, { step: 'new-field', recordId: id });
  await turn.say(`Send the new field as ${FIELD_FORMAT}, or /cancel.`);
}

export async function askRemoveField(turn: Turn, id: string, index: number): Promise<void> {
  const handle = await userOf(turn).vault();
  const record = handle.vault.open(liveRecord(handle.vault, id));
  const field = fieldAt(record.fields, index);
  await confirm(turn, { recordId: id, removeFields: [field.name] }, `Remove the field ${cut(field.name, 60)} from “${nameOf(record)}”?`);
}

/** A message answering an edit question: the change is shown (masked when sensitive) and waits for Save. */
export async function takeEdit(turn: Turn, step: Extract<Step, { step: 'field-value' | 'rename' | 'new-field' }>, text: string): Promise<void> {
  const handle = await userOf(turn).vault();
  const record = handle.vault.open(liveRecord(handle.vault, step.recordId));
  if (step.step === 'rename') {
    const name = inputRecordNameSchema.safeParse(text);
    if (!name.success) return void (await turn.say(`The name ${problem(name.error)}; send another, or /cancel.`));
    return confirm(turn, { recordId: step.recordId, name: name.data }, `Rename “${nameOf(record)}” to “${cut(name.data, 100)}”?`);
  }
  const field = step.step === 'field-value' ? { name: step.field, value: text, sensitive: step.sensitive } : readField(text);
  if (field?.sensitive || (!field && text.includes('='))) await takeSensitive(turn);
  if (!field) return void (await turn.say(`Send the field as ${FIELD_FORMAT}, or /cancel.`));
  const checked = inputFieldListSchema.safeParse([field]);
  if (!checked.success) return void (await turn.say(`That value ${problem(checked.error)}; send another, or /cancel.`));
  const shown = field.sensitive ? MASK : cut(field.value, 100);
  const replacing = step.step === 'new-field' && record.fields.some((f) => f.name === field.name);
  const question = step.step === 'field-value' || replacing ? `Set ${cut(field.name, 60)} of “${nameOf(record)}” to ${shown}?` : `Add ${cut(field.name, 60)} = ${shown} to “${nameOf(record)}”?`;
  return confirm(turn, { recordId: step.recordId, setFields: checked.data }, question);
}

async function confirm(turn: Turn, change: PendingChange, question: string): Promise<void> {
  turn.ctx.conversations.set(turn.chatId, { step: 'confirm', change });
  await turn.say(question, SAVE_OR_CANCEL);
}

export async function saveChange(turn: Turn, change: PendingChange): Promise<void> {
  const user = userOf(turn);
  const handle = await user.vault();
  turn.ctx.conversations.end(turn.chatId);
  await handle.exclusive(async (vault) => {
    const current = liveRecord(vault, change.recordId);
    await vault.update(change.recordId, {
      ...(change.name !== undefined ? { name: change.name } : {}),
      ...(change.setFields ? { setFields: keepFieldKinds(current.fields, change.setFields) } : {}),
      ...(change.removeFields ? { removeFields: change.removeFields } : {}),
    });
  });
  const outcome = await user.syncNow();
  await turn.say(`✅ Saved.${outcome.online ? '' : ' The server cannot be reached right now: the change is sent at the next sync.'}`);
  await show(turn, change.recordId);
}
