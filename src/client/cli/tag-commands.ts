import { escapeControls, jsonText } from '../terminal-text.js';
import { afterWrite, openVault, syncIfOnline, type Context } from './commands.js';
import { table } from './format.js';

/**
 * `keeper tag REF [TAG...] [--remove TAG]`: adds and removes a record's tags (any case), or shows
 * them when given none. Tags are sealed in an encrypted vault, so changing them needs it unlocked.
 */
export async function tagCommand(ctx: Context, ref: string, tags: string[], options: { remove?: string[]; json?: boolean }): Promise<void> {
  const handle = await openVault(ctx);
  const { vault } = handle;
  await syncIfOnline(ctx, handle);
  const record = handle.findRecord(ref);
  const remove = options.remove ?? [];
  if (tags.length === 0 && remove.length === 0) {
    if (options.json) return ctx.out(jsonText({ id: record.id, tags: record.tags, favourite: record.favourite }, 2));
    if (record.unreadable.includes('tags')) return ctx.out('(the tags are sealed, not readable while locked)');
    return ctx.out(record.tags.length > 0 ? escapeControls(record.tags.join(', ')) : 'no tags');
  }
  const next = vault.tagsAfter(record.id, { add: tags, remove });
  await vault.update(record.id, { tags: next });
  await afterWrite(ctx, handle, `tagged ${record.id} (${escapeControls(record.name)}): ${next.length > 0 ? escapeControls(next.join(', ')) : 'no tags'}`);
}

/** `keeper tags`: every tag in the vault with how many records carry it. */
export async function tagsCommand(ctx: Context, options: { json?: boolean }): Promise<void> {
  const handle = await openVault(ctx);
  const { vault } = handle;
  await syncIfOnline(ctx, handle);
  const tags = vault.allTags();
  if (options.json) return ctx.out(jsonText(tags, 2));
  if (tags.length === 0) return ctx.out('no tags');
  ctx.out(table(['TAG', 'RECORDS'], tags.map((t) => [t.tag, String(t.count)])));
}
