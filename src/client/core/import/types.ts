import type { RecordKind } from '../../../domain/record.js';

/** The formats `keeper import` reads. */
export const IMPORT_FORMATS = ['bitwarden-json', 'bitwarden-csv', 'keepassxc-csv', 'kdbx', 'keeper'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/** One value of an item, as the source had it. `totp` marks a one-time-code secret (an otpauth URI or base32). */
export interface ImportField {
  name: string;
  value: string;
  sensitive: boolean;
  totp?: boolean | undefined;
}

/**
 * One item of a source file in terms neutral to every format and to how Keeper keeps it: what
 * the parsers produce and the record mapper (./record-input.ts) turns into a record. Folders and
 * the source's own tags are both `tags`.
 */
export interface ImportItem {
  /** Stable for this item in this source: the source's own id, or a hash of the row (see ./item-ids.ts). */
  sourceId: string;
  /** Keeper's own files keep their record ids. */
  recordId?: string | undefined;
  kind: RecordKind;
  name: string;
  fields: ImportField[];
  tags: string[];
  favourite: boolean;
}

/** Something of the source Keeper does not keep, said item by item. */
export interface Unmapped {
  /** The item's name (or the file, for something of the whole file). */
  item: string;
  what: string;
}

export interface ParsedImport {
  format: ImportFormat;
  items: ImportItem[];
  unmapped: Unmapped[];
}
