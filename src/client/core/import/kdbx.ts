import { KeeperFailure } from '../failures.js';
import { item, ItemBuilder, itemName, tagList } from './item-fields.js';
import { kdbxArgon2 } from './kdbx-argon2.js';
import type { ImportItem, ParsedImport, Unmapped } from './types.js';

type Kdbxweb = typeof import('kdbxweb');
type Group = import('kdbxweb').KdbxGroup;
type Entry = import('kdbxweb').KdbxEntry;

const STANDARD = new Set(['Title', 'UserName', 'Password', 'URL', 'Notes', 'otp']);

/**
 * A KeePass KDBX 4 file (kdbxweb reads 3.1 too, untested here), opened with its password: every entry but those in the
 * recycle bin, its group path as a tag, its own tags, its one-time-code secret (KeePassXC's `otp`
 * URI or KeePass's TimeOtp-* settings). Attachments and the entries' own histories are reported.
 */
export async function parseKdbx(bytes: Uint8Array, fileName: string, password: string): Promise<ParsedImport> {
  // kdbxweb (and its XML parser) load only for this format.
  // A CommonJS bundle whose exports Node's ES-module loader cannot name: imported as an ES module
  // (the build) they are all under `default`; through tsx (the sources) they are the module itself.
  const imported = (await import('kdbxweb')) as Kdbxweb & { default?: Kdbxweb };
  const kdbxweb: Kdbxweb = imported.Kdbx ? imported : imported.default!;
  kdbxweb.CryptoEngine.setArgon2Impl(kdbxArgon2);
  let db: import('kdbxweb').Kdbx;
  try {
    const data = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    db = await kdbxweb.Kdbx.load(data, new kdbxweb.Credentials(kdbxweb.ProtectedValue.fromString(password)));
  } catch (error) {
    if (error instanceof KeeperFailure) throw error;
    const code = (error as { code?: string }).code;
    if (code === kdbxweb.Consts.ErrorCodes.InvalidKey) throw new KeeperFailure('wrong-secret', `the password of ${fileName} is wrong (or the file also needs a key file, which Keeper does not take); nothing was imported`);
    if (code === kdbxweb.Consts.ErrorCodes.BadSignature) throw new KeeperFailure('invalid', `${fileName} is not a KeePass database (.kdbx)`);
    if (code === kdbxweb.Consts.ErrorCodes.InvalidVersion || code === kdbxweb.Consts.ErrorCodes.Unsupported) throw new KeeperFailure('invalid', `${fileName} is a KeePass database Keeper cannot read: ${(error as Error).message}`);
    throw new KeeperFailure('invalid', `${fileName} cannot be read as a KeePass database: ${(error as Error).message}`);
  }
  const items: ImportItem[] = [];
  const unmapped: Unmapped[] = [];
  const recycleBin = db.meta.recycleBinEnabled ? db.meta.recycleBinUuid?.id : undefined;
  let binned = 0;
  const walk = (group: Group, path: string[], inBin: boolean) => {
    const here = inBin || (recycleBin !== undefined && group.uuid.id === recycleBin);
    for (const entry of group.entries) {
      if (here) binned++;
      else items.push(mapEntry(kdbxweb, entry, path, unmapped));
    }
    for (const child of group.groups) walk(child, [...path, child.name ?? ''], here);
  };
  const root = db.getDefaultGroup();
  walk(root, [], false);
  if (binned > 0) unmapped.push({ item: fileName, what: `${binned} entr${binned === 1 ? 'y' : 'ies'} in the recycle bin: not imported` });
  return { format: 'kdbx', items, unmapped };
}

function mapEntry(kdbxweb: Kdbxweb, entry: Entry, path: string[], unmapped: Unmapped[]): ImportItem {
  const value = (name: string): string | undefined => {
    const field = entry.fields.get(name);
    if (field === undefined) return undefined;
    return field instanceof kdbxweb.ProtectedValue ? field.getText() : field;
  };
  const name = itemName(value('Title'), `entry ${entry.uuid.id.slice(0, 8)}`);
  const fields = new ItemBuilder(name, unmapped);
  fields.add('user', value('UserName'));
  fields.add('password', value('Password'), true);
  fields.add('url', value('URL'));
  const totp = value('otp') ?? keepassTotp(name, value);
  fields.add('totp', totp, true, true);
  const loginLike = fields.fields.length > 0;
  for (const [key, field] of entry.fields) {
    if (STANDARD.has(key) || key.startsWith('TimeOtp-') || key.startsWith('HmacOtp-')) continue;
    fields.add(key, field instanceof kdbxweb.ProtectedValue ? field.getText() : field, field instanceof kdbxweb.ProtectedValue);
  }
  const custom = fields.fields.length > 0 && !loginLike;
  fields.add(loginLike || custom ? 'notes' : 'text', value('Notes'));
  if (entry.binaries.size > 0) unmapped.push({ item: name, what: `${entry.binaries.size} attachment(s): not imported; attach pictures with keeper image add` });
  if (value('HmacOtp-Secret') || value('HmacOtp-Secret-Base32')) unmapped.push({ item: name, what: 'a counter-based one-time code (HOTP): Keeper keeps time-based codes only' });
  return item({
    sourceId: entry.uuid.id,
    kind: loginLike ? 'login' : custom ? 'custom' : 'note',
    name,
    fields: fields.fields,
    tags: tagList(path.join('/') || undefined, ...entry.tags),
  });
}

/** KeePass 2.47's own one-time-code settings, as the otpauth URI every authenticator reads. */
function keepassTotp(name: string, value: (name: string) => string | undefined): string | undefined {
  const secret = value('TimeOtp-Secret-Base32');
  if (!secret) return undefined;
  const params = new URLSearchParams({ secret: secret.replace(/\s+/g, '').toUpperCase() });
  const digits = value('TimeOtp-Length');
  const period = value('TimeOtp-Period');
  const algorithm = value('TimeOtp-Algorithm');
  if (digits) params.set('digits', digits);
  if (period) params.set('period', period);
  if (algorithm) params.set('algorithm', algorithm.replace('HMAC-', ''));
  return `otpauth://totp/${encodeURIComponent(name)}?${params.toString()}`;
}
