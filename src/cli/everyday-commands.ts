import type { Command } from 'commander';
import type { Context } from '../client/cli/commands.js';

/** How main.ts runs a client command (config, client, context); handed in so this file stays small. */
export type ClientAction = <A extends unknown[]>(run: (client: unknown, ctx: Context, ...args: A) => Promise<void>) => (...args: A) => Promise<void>;

const collect = (value: string, previous: string[] = []) => [...previous, value];
const tagCommands = () => import('../client/cli/tag-commands.js');
const codeCommands = () => import('../client/cli/code-commands.js');
const generateCommands = () => import('../client/cli/generate-commands.js');

/** The everyday tools of a password manager (tags, ...), each command in a small file of its own. */
export function registerEverydayCommands(program: Command, clientAction: ClientAction): void {
  program
    .command('tag <record> [tags...]')
    .description("add tags to a record (any case), remove some with --remove, or show its tags")
    .option('--remove <tag>', 'remove a tag (repeatable)', collect)
    .option('--json', 'print JSON (when showing)')
    .action(
      clientAction(async (_client, ctx, ref: string, tags: string[], options: { remove?: string[]; json?: boolean }) =>
        (await tagCommands()).tagCommand(ctx, ref, tags, options),
      ),
    );
  program
    .command('tags')
    .description('every tag in the vault, with how many records carry it')
    .option('--json', 'print JSON')
    .action(clientAction(async (_client, ctx, options: { json?: boolean }) => (await tagCommands()).tagsCommand(ctx, options)));
  program
    .command('code <record>')
    .description("a record's current one-time code (TOTP) on stdout, and how many seconds it has left")
    .option('--field <name>', 'which one-time-code field, when the record has several')
    .option('--json', 'print JSON')
    .action(clientAction(async (_client, ctx, ref: string, options: { field?: string; json?: boolean }) => (await codeCommands()).codeCommand(ctx, ref, options)));
  program
    .command('generate')
    .description('a random password (or passphrase) on stdout, its entropy on stderr; nothing is stored')
    .option('--length <n>', 'characters in the password (4 to 128)', '20')
    .option('--no-lower', 'no lower-case letters')
    .option('--no-upper', 'no capital letters')
    .option('--no-digits', 'no digits')
    .option('--no-symbols', 'no symbols')
    .option('--avoid-look-alikes', 'leave out characters easily mistaken for one another (0 O o 1 l I |)')
    .option('--passphrase', 'words from the EFF large word list instead of characters')
    .option('--words <n>', 'words in the passphrase (3 to 20, default 6; implies --passphrase)')
    .option('--separator <text>', 'between the words (default -)')
    .option('--capitalise', 'capital first letters in a passphrase')
    .option('--json', 'print JSON')
    .action(clientless(async (ctx, options: Record<string, unknown>) => (await generateCommands()).generateCommand(ctx, options)));
}

/**
 * `generate` needs no server, session or vault: it runs without the client's configuration, so
 * it works before `keeper login` and offline.
 */
function clientless<A extends unknown[]>(run: (ctx: Pick<Context, 'out' | 'warn'>, ...args: A) => Promise<void>) {
  return async (...args: A) => {
    const { terminalSafe } = await import('../client/terminal-text.js');
    await run({ out: (text) => process.stdout.write(`${terminalSafe(text)}\n`), warn: (text) => process.stderr.write(`${terminalSafe(text)}\n`) }, ...args);
  };
}
