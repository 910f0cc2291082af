import { writeFileAtomic } from '../../lib/atomic-file.js';
import { progressReporter } from '../../lib/progress.js';
import { applyImport, importFormat, kindCounts, prepareImport, type ImportPlan } from '../core/import/import-file.js';
import { exportFormat, exportVault, PLAINTEXT_WARNING } from '../core/export/export-vault.js';
import { checkSecretWord } from '../secret-word-policy.js';
import { openVault, syncIfOnline, type Context } from './commands.js';
import { CliError, EXIT } from './exit-codes.js';
import { table } from './format.js';
import { promptSecret } from './prompt.js';
import { escapeControls } from '../terminal-text.js';
import { describeConflict } from '../sync/conflict-notices.js';

export async function importCommand(ctx: Context, formatName: string, file: string, options: { dryRun?: boolean }): Promise<void> {
  const format = importFormat(formatName);
  const handle = await openVault(ctx);
  // A dry run works from the local copy when it must; an import pushes, so it needs the server.
  const online = options.dryRun ? (await syncIfOnline(ctx, handle)) !== undefined : (await handle.syncOnline(), true);
  const plan = await prepareImport(handle, { format, path: file, online, askPassword: () => promptSecret(`password of ${file}`) });
  if (options.dryRun) {
    reportDryRun(ctx, plan);
    return;
  }
  const progress = progressReporter('importing', 'records', process.stderr, plan.create.length);
  let reported = 0;
  const { created, batches, conflicts } = await applyImport(handle, plan, {
    onProgress: (done) => {
      progress.add(done - reported);
      reported = done;
    },
  });
  progress.done();
  for (const conflict of conflicts) ctx.warn(describeConflict(conflict, escapeControls(conflict.recordName)));
  ctx.out(`imported ${created} record(s) from ${plan.format}${created ? ` (${kindCounts(plan)}) in ${batches} push(es)` : ''}; version ${handle.vault.version}`);
  reportRest(ctx, plan);
}

function reportDryRun(ctx: Context, plan: ImportPlan): void {
  ctx.out(`dry run, nothing was changed: ${plan.read} item(s) read from the ${plan.format} file`);
  if (plan.create.length > 0) {
    ctx.out(`would create ${plan.create.length} record(s) (${kindCounts(plan)}):`);
    ctx.out(table(['KIND', 'NAME', 'FIELDS', 'TAGS'], plan.create.map((p) => [p.item.kind, escapeControls(p.item.name), p.input.fields.map((f) => f.name).join(', '), p.item.tags.join(', ')])));
  } else ctx.out('would create nothing');
  reportRest(ctx, plan);
}

function reportRest(ctx: Context, plan: ImportPlan): void {
  if (plan.existing.length > 0) ctx.out(`${plan.existing.length} already in the vault (imported before): left as they are`);
  if (plan.deleted.length > 0) ctx.out(`${plan.deleted.length} imported before and deleted since: not made again (keeper history --deleted lists them)`);
  if (!plan.deletedChecked) ctx.warn('keeper: the server could not be asked which records were deleted: some listed as new may have been imported and deleted before');
  if (plan.unmapped.length > 0) {
    ctx.out(`not imported or not kept (${plan.unmapped.length}):`);
    for (const u of plan.unmapped) ctx.out(`  ${escapeControls(u.item)}: ${escapeControls(u.what)}`);
  }
}

export async function exportCommand(ctx: Context, options: { format?: string; out?: string; history?: boolean }): Promise<void> {
  const format = exportFormat(options.format ?? 'json');
  const handle = await openVault(ctx);
  if (options.history) await handle.syncOnline();
  else await syncIfOnline(ctx, handle);
  const { text, records } = await exportVault(handle, { format, history: Boolean(options.history), password: () => exportPassword(ctx) });
  if (format !== 'encrypted') ctx.warn(`keeper: warning: ${PLAINTEXT_WARNING}`);
  if (!options.out) {
    process.stdout.write(text);
    return;
  }
  await writeFileAtomic(options.out, text, 0o600);
  ctx.out(`exported ${records} record(s) to ${options.out} (${format}${format === 'encrypted' ? ', protected by the password' : ', plaintext'})`);
}

/** The export's password: the vault's secret word rule applies, typed twice on a terminal. */
async function exportPassword(ctx: Context): Promise<string> {
  const password = await promptSecret('export password');
  const login = (await ctx.client.currentSession())?.login;
  const verdict = await checkSecretWord(password, login ? [login] : []);
  if (!verdict.ok) throw new CliError(`${verdict.reason}; nothing was exported`, EXIT.usage);
  if (process.stdin.isTTY && (await promptSecret('export password again')) !== password) throw new CliError('the two passwords differ; nothing was exported', EXIT.usage);
  return password;
}
