import { fieldKindOf } from '../../domain/record.js';
import { KeeperFailure } from '../core/failures.js';
import { oneTimeCode, totpFields } from '../core/totp.js';
import { escapeControls, jsonText } from '../terminal-text.js';
import { openVault, syncIfOnline, type Context } from './commands.js';

/**
 * `keeper code REF [--field NAME]`: the current one-time code of a record's one-time-code field
 * and the seconds it has left. The secret itself is never printed.
 */
export async function codeCommand(ctx: Context, ref: string, options: { field?: string; json?: boolean }): Promise<void> {
  const handle = await openVault(ctx);
  await syncIfOnline(ctx, handle);
  const record = handle.findRecord(ref);
  const name = escapeControls(record.name);
  const all = record.fields.filter((f) => fieldKindOf(f) === 'totp');
  if (all.length === 0) throw new KeeperFailure('not-found', `record "${name}" has no one-time-code field (add one with keeper edit ${record.id.slice(0, 8)} --totp NAME)`);
  const readable = totpFields(record);
  const wanted = options.field === undefined ? all[0]! : all.find((f) => f.name === options.field);
  if (!wanted) throw new KeeperFailure('not-found', `record "${name}" has no one-time-code field "${escapeControls(options.field!)}" (it has ${all.map((f) => `"${escapeControls(f.name)}"`).join(', ')})`);
  if (!readable.includes(wanted)) throw new KeeperFailure('locked', `the one-time-code secret of "${name}" is sealed and the vault is locked`);
  const code = oneTimeCode(wanted.value);
  if (options.json) {
    ctx.out(jsonText({ id: record.id, field: wanted.name, code: code.code, secondsLeft: code.secondsLeft, period: code.period, digits: code.digits }, 2));
    return;
  }
  ctx.out(code.code);
  ctx.warn(`${name}${all.length > 1 ? ` (${escapeControls(wanted.name)})` : ''}: valid for ${code.secondsLeft} more second${code.secondsLeft === 1 ? '' : 's'}`);
}
