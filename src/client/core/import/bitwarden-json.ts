import { z } from 'zod';
import { KeeperFailure } from '../failures.js';
import { item, ItemBuilder, itemName, tagList } from './item-fields.js';
import type { ImportItem, ParsedImport, Unmapped } from './types.js';

// Bitwarden's unencrypted JSON export (Settings > Export vault > .json): folders, then items of
// type 1 login, 2 secure note, 3 card, 4 identity, 5 SSH key. Everything but what is read is
// optional and may be null; unknown keys are left alone (newer exports add some).
const text = z.string().nullish();
const fieldSchema = z.object({ name: text, value: text, type: z.number().int().nullish(), linkedId: z.number().nullish() });
const itemSchema = z.object({
  id: z.string().min(1),
  type: z.number().int(),
  name: text,
  notes: text,
  favorite: z.boolean().nullish(),
  folderId: text,
  fields: z.array(fieldSchema).nullish(),
  login: z
    .object({
      username: text,
      password: text,
      totp: text,
      uris: z.array(z.object({ uri: text })).nullish(),
      fido2Credentials: z.array(z.unknown()).nullish(),
    })
    .nullish(),
  card: z.object({ cardholderName: text, brand: text, number: text, expMonth: text, expYear: text, code: text }).nullish(),
  identity: z.record(z.string(), z.string().nullish()).nullish(),
  sshKey: z.object({ privateKey: text, publicKey: text, keyFingerprint: text }).nullish(),
  passwordHistory: z.array(z.unknown()).nullish(),
  attachments: z.array(z.unknown()).nullish(),
});
const fileSchema = z.object({
  encrypted: z.boolean().optional(),
  folders: z.array(z.object({ id: z.string(), name: z.string() })).nullish(),
  items: z.array(z.unknown()),
});

const IDENTITY_SENSITIVE = new Set(['ssn', 'passportNumber', 'licenseNumber']);

export function parseBitwardenJson(bytes: Uint8Array, fileName: string): ParsedImport {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw new KeeperFailure('invalid', `${fileName} is not JSON (${(error as Error).message}): a Bitwarden .json export was expected`);
  }
  const file = fileSchema.safeParse(json);
  if (!file.success) throw new KeeperFailure('invalid', `${fileName} is not a Bitwarden JSON export: ${file.error.issues[0]?.path.join('.') || 'the file'} ${file.error.issues[0]?.message ?? ''}`.trim());
  if (file.data.encrypted) {
    throw new KeeperFailure('invalid', `${fileName} is an encrypted Bitwarden export: export again choosing the unencrypted .json format (and delete the file after importing)`);
  }
  const folders = new Map((file.data.folders ?? []).map((f) => [f.id, f.name]));
  const items: ImportItem[] = [];
  const unmapped: Unmapped[] = [];
  file.data.items.forEach((raw, index) => {
    const parsed = itemSchema.safeParse(raw);
    if (!parsed.success) {
      unmapped.push({ item: `item ${index + 1}`, what: `not read: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}` });
      return;
    }
    const mapped = mapItem(parsed.data, folders, unmapped);
    if (mapped) items.push(mapped);
  });
  return { format: 'bitwarden-json', items, unmapped };
}

function mapItem(source: z.infer<typeof itemSchema>, folders: Map<string, string>, unmapped: Unmapped[]): ImportItem | undefined {
  const name = itemName(source.name, `item ${source.id.slice(0, 8)}`);
  const fields = new ItemBuilder(name, unmapped);
  let kind: ImportItem['kind'];
  switch (source.type) {
    case 1: {
      kind = 'login';
      fields.add('user', source.login?.username);
      fields.add('password', source.login?.password, true);
      for (const uri of source.login?.uris ?? []) fields.add('url', uri.uri);
      fields.add('totp', source.login?.totp, true, true);
      if (source.login?.fido2Credentials?.length) unmapped.push({ item: name, what: `${source.login.fido2Credentials.length} passkey(s): Keeper does not keep passkeys` });
      break;
    }
    case 2:
      kind = 'note';
      fields.add('text', source.notes);
      break;
    case 3: {
      kind = 'card';
      const card = source.card;
      fields.add('number', card?.number, true);
      fields.add('holder', card?.cardholderName);
      if (card?.expMonth || card?.expYear) fields.add('expires', [card?.expMonth?.padStart(2, '0'), card?.expYear].filter(Boolean).join('/'));
      fields.add('cvv', card?.code, true);
      fields.add('brand', card?.brand);
      break;
    }
    case 4:
      kind = 'custom';
      for (const [key, value] of Object.entries(source.identity ?? {})) fields.add(key, value, IDENTITY_SENSITIVE.has(key));
      break;
    case 5:
      kind = 'custom';
      fields.add('private key', source.sshKey?.privateKey, true);
      fields.add('public key', source.sshKey?.publicKey);
      fields.add('fingerprint', source.sshKey?.keyFingerprint);
      break;
    default:
      unmapped.push({ item: name, what: `not imported: Bitwarden item type ${source.type} is not one Keeper knows` });
      return undefined;
  }
  if (kind !== 'note') fields.add('notes', source.notes);
  for (const field of source.fields ?? []) {
    const fieldName = field.name || 'field';
    if (field.type === 3) {
      unmapped.push({ item: name, what: `linked field "${fieldName}": it only points at another value of the item, not kept` });
      continue;
    }
    fields.add(fieldName, field.value, field.type === 1);
  }
  if (source.passwordHistory?.length) unmapped.push({ item: name, what: `${source.passwordHistory.length} earlier password(s): Bitwarden's password history is not imported` });
  if (source.attachments?.length) unmapped.push({ item: name, what: `${source.attachments.length} attachment(s): not in the export's file; attach pictures with keeper image add` });
  const folder = source.folderId ? folders.get(source.folderId) : undefined;
  return item({ sourceId: source.id, kind, name, fields: fields.fields, tags: tagList(folder), favourite: Boolean(source.favorite) });
}
