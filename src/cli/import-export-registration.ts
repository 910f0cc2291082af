import type { Command } from 'commander';
import type { Context } from '../client/cli/commands.js';
import { EXPORT_FORMATS } from '../client/core/export/formats.js';
import { IMPORT_FORMATS } from '../client/core/import/types.js';

type ClientAction = <A extends unknown[]>(run: (client: unknown, ctx: Context, ...args: A) => Promise<void>) => (...args: A) => Promise<void>;

// The commands' code (parsers, kdbxweb, the export cipher) loads only when one of them runs.
const commands = () => import('../client/cli/import-export-commands.js');

/** `keeper import` and `keeper export`. */
export function registerImportExport(program: Command, clientAction: ClientAction): void {
  program
    .command('import <format> <file>')
    .description(`add the records of another password manager's export (${IMPORT_FORMATS.join(', ')}); running it again adds nothing twice`)
    .option('--dry-run', 'only report what would be created and what cannot be mapped')
    .action(clientAction(async (_client, ctx, format: string, file: string, options: { dryRun?: boolean }) => (await commands()).importCommand(ctx, format, file, options)));
  program
    .command('export')
    .description('write every record to a file: Keeper JSON or CSV (plaintext), or JSON sealed under a password')
    .option('--format <format>', `${EXPORT_FORMATS.join(', ')}`, 'json')
    .option('--out <file>', 'the file to write (mode 600; default: standard output)')
    .option('--history', "include every record's versions (json and encrypted)")
    .action(clientAction(async (_client, ctx, options: { format?: string; out?: string; history?: boolean }) => (await commands()).exportCommand(ctx, options)));
}
