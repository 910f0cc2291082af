import type { Command } from 'commander';
import type { Context } from '../client/cli/commands.js';

/** How main.ts runs a client command (config, client, context); handed in so this file stays small. */
export type ClientAction = <A extends unknown[]>(run: (client: unknown, ctx: Context, ...args: A) => Promise<void>) => (...args: A) => Promise<void>;

const collect = (value: string, previous: string[] = []) => [...previous, value];
const tagCommands = () => import('../client/cli/tag-commands.js');

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
}
