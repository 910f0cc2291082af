import { parseBitwardenCsv } from './bitwarden-csv.js';
import { parseBitwardenJson } from './bitwarden-json.js';
import { parseKdbx } from './kdbx.js';
import { parseKeepassxcCsv } from './keepassxc-csv.js';
import { parseKeeperFile } from './keeper-file.js';
import { KeeperFailure } from '../failures.js';
import { IMPORT_FORMATS, type ImportFormat, type ParsedImport } from './types.js';

/** Files above this are refused before they are read into memory: no password manager's export is near it. */
export const IMPORT_FILE_MAX_BYTES = 256 * 1024 * 1024;

export function importFormat(name: string): ImportFormat {
  if ((IMPORT_FORMATS as readonly string[]).includes(name)) return name as ImportFormat;
  throw new KeeperFailure('invalid', `unknown import format "${name}": one of ${IMPORT_FORMATS.join(', ')}`);
}

/**
 * Reads a source file of a format into neutral items. `askPassword` is asked only when the file
 * needs one (a KDBX file, a password-protected Keeper export).
 */
export async function parseImport(format: ImportFormat, bytes: Uint8Array, fileName: string, askPassword: () => Promise<string>): Promise<ParsedImport> {
  switch (format) {
    case 'bitwarden-json':
      return parseBitwardenJson(bytes, fileName);
    case 'bitwarden-csv':
      return parseBitwardenCsv(bytes, fileName);
    case 'keepassxc-csv':
      return parseKeepassxcCsv(bytes, fileName);
    case 'kdbx':
      return parseKdbx(bytes, fileName, await askPassword());
    case 'keeper':
      return parseKeeperFile(bytes, fileName, askPassword);
  }
}
