import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import type { Context, FieldOptions, TagOptions } from '../client/cli/commands.js';
import { registerEverydayCommands, type ClientAction } from './everyday-commands.js';
import { escapeControls, terminalSafe } from '../client/terminal-text.js';
import { ACCEPTED_IMAGE_NAMES } from '../domain/image-types.js';
import { EXIT } from '../client/cli/exit-codes.js';
import { registerImportExport } from './import-export-registration.js';

// Every line goes out terminal-safe: names, values and messages may come from other devices.
const out = (text: string) => process.stdout.write(`${terminalSafe(text)}\n`);
const warn = (text: string) => process.stderr.write(`${terminalSafe(text)}\n`);
// Server code (PGlite, bcrypt, pg) loads only for server commands, so client commands start fast;
// the client (gRPC, protobuf, zod schemas) only when a command runs, so `keeper --help` and a
// usage error load commander and this file alone.
const clientCommands = () => import('../client/cli/commands.js');
const clientConfig = () => import('../config/client-config.js');
const serverCommands = () => import('./server-commands.js');
const auditCommands = () => import('./audit-commands.js');
const tuiCommand = () => import('../client/tui/run.js');
const agentCommand = () => import('./agent-command.js');
const botCommand = () => import('./bot-command.js');
const sessionCommands = () => import('../client/cli/session-commands.js');
const collect = (value: string, previous: string[] = []) => [...previous, value];
let serverForErrors: string | undefined;

function serverOptions(command: Command): Command {
  return command
    .option('--data-dir <dir>', 'where embedded data lives (KEEPER_DATA_DIR, default ./.keeper)')
    .option('--database-url <url>', 'PostgreSQL URL instead of the embedded database (KEEPER_DATABASE_URL)')
    .option('--event-store-url <url>', 'KurrentDB (EventStoreDB) for the event log, e.g. kurrentdb://host:2113?tls=false (KEEPER_EVENTSTORE_URL; default: the SQL database)')
    .option('--listen <host:port>', 'gRPC address to listen on (KEEPER_LISTEN, default 127.0.0.1:7070)')
    .option('--metrics-listen <host:port>', 'serve Prometheus GET /metrics here, apart from gRPC (KEEPER_METRICS_LISTEN, default off)')
    .option('--access-ttl <seconds>', 'access token lifetime (KEEPER_ACCESS_TTL, default 900)')
    .option('--refresh-ttl <seconds>', 'refresh token lifetime (KEEPER_REFRESH_TTL, default 30 days)')
    .option('--tls-cert <file>', 'PEM certificate chain for TLS (KEEPER_TLS_CERT)')
    .option('--tls-key <file>', 'PEM private key for TLS (KEEPER_TLS_KEY)')
    .option('--reflection <on|off>', 'gRPC server reflection for tools like grpcurl (KEEPER_REFLECTION, default on)')
    .option('--nats-url <url>', 'NATS JetStream for image jobs instead of the in-process queue (KEEPER_NATS_URL)')
    .option('--blob-dir <dir>', 'where image bytes are kept (KEEPER_BLOB_DIR, default <data-dir>/blobs)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (KEEPER_LOG_LEVEL, default warn)');
}

/** A client command: builds the gRPC client from validated config and always closes it. */
function clientAction<A extends unknown[]>(run: (client: ClientCommands, ctx: Context, ...args: A) => Promise<void>) {
  return async (...args: A) => {
    const { loadClientConfig } = await clientConfig();
    const config = loadClientConfig(program.opts(), process.env);
    serverForErrors = config.server;
    // The home directory is proved writable (a file written and synced) while the client loads.
    const [client, { KeeperClient }, { FileTokenStore }] = await Promise.all([
      clientCommands(),
      import('../client/keeper-client.js'),
      import('../client/token-store.js'),
      import('../lib/writable-dir.js').then(({ ensureWritableDirectory }) => ensureWritableDirectory(config.home, '--home / KEEPER_HOME')),
    ]);
    const id = await clientId(config.home);
    const keeper = new KeeperClient({ server: config.server, tls: config.tls, tlsCa: config.tlsCa }, new FileTokenStore(config.home, config.server), config.timeoutMs, id);
    try {
      await run(
        client,
        {
          client: keeper,
          clientId: id,
          server: config.server,
          home: config.home,
          sessionSecret: process.env.KEEPER_SESSION || undefined,
          out,
          warn,
        },
        ...args,
      );
    } finally {
      keeper.close();
    }
  };
}
type ClientCommands = Awaited<ReturnType<typeof clientCommands>>;

/** A stable id for this installation, recorded in every event it causes. */
async function clientId(home: string): Promise<string> {
  const path = join(home, 'client-id');
  const { readFileIfExists, writeFileAtomic } = await import('../lib/atomic-file.js');
  const existing = (await readFileIfExists(path))?.trim();
  if (existing) return existing;
  // node:crypto loaded here, once per installation: `keeper --help` and usage errors never need it.
  const { randomUUID } = await import('node:crypto');
  const id = `cli-${randomUUID()}`;
  await writeFileAtomic(path, id);
  return id;
}

const program = new Command('keeper')
  .description('Keeper: a personal data vault with an event-sourced sync engine')
  .option('--server <host:port>', 'Keeper server address: host:port, replicas a:7070,b:7070, or dns:///name:7070 (KEEPER_SERVER, default 127.0.0.1:7070)')
  .option('--home <dir>', 'where the client keeps sessions (KEEPER_HOME, default ~/.keeper)')
  .option('--tls', 'connect with TLS (KEEPER_TLS)')
  .option('--tls-ca <file>', 'CA certificate to trust for TLS (KEEPER_TLS_CA)')
  .option('--timeout <ms>', 'how long to wait for the server (KEEPER_TIMEOUT_MS, default 15000)')
  .showHelpAfterError('(run keeper --help for the commands)')
  .exitOverride();

serverOptions(program.command('up').description('run the whole system in one process (embedded database by default)')).action(async (flags) =>
  (await serverCommands()).upCommand(flags, out),
);
serverOptions(program.command('server').description('run the gRPC server'))
  .addOption(new Option('--projector <mode>', 'inline or external (KEEPER_PROJECTOR, default inline)'))
  .addOption(new Option('--imaging <mode>', 'inline or external: the resize worker in this process or in `keeper imaging` (KEEPER_IMAGING, default inline)'))
  .action(async (flags) => (await serverCommands()).serverCommand(flags));
serverOptions(program.command('imaging').description('run the image worker: covers and compact copies from the NATS job queue'))
  .option('--concurrency <n>', 'images made at once (KEEPER_IMAGING_CONCURRENCY, default 2)')
  .option('--health-listen <host:port>', 'answer GET /healthz here while the database answers (KEEPER_HEALTH_LISTEN; off by default)')
  .action(async (flags) => (await serverCommands()).imagingCommand(flags));
program
  .command('blobs-gc')
  .description('remove stored image bytes no image refers to any more (also runs hourly in the server)')
  .option('--data-dir <dir>', 'where embedded data lives (KEEPER_DATA_DIR, default ./.keeper)')
  .option('--database-url <url>', 'PostgreSQL URL instead of the embedded database (KEEPER_DATABASE_URL)')
  .option('--blob-dir <dir>', 'where image bytes are kept (KEEPER_BLOB_DIR, default <data-dir>/blobs)')
  .action(async (flags) => (await serverCommands()).blobsGcCommand(flags, out));
serverOptions(program.command('projector').description('run the projector that builds the read model'))
  .option('--rebuild', 'empty the read model, replay the whole log into it, and exit')
  .option('--health-listen <host:port>', 'answer GET /healthz here while the database answers (KEEPER_HEALTH_LISTEN; off by default)')
  .action(async (flags) => (await serverCommands()).projectorCommand(flags, out));
program
  .command('agent')
  .description('run the local HTTP agent: a JSON API for many logged-in users over the Keeper server')
  .option('--listen <host:port>', 'where the agent listens (KEEPER_AGENT_LISTEN, default 127.0.0.1:7071; beyond loopback TLS is required)')
  .option('--allowed-hosts <list>', 'more Host header values to accept, comma-separated (KEEPER_AGENT_ALLOWED_HOSTS)')
  .option('--allowed-origins <list>', 'browser origins allowed to call the API, comma-separated (KEEPER_AGENT_ALLOWED_ORIGINS; none by default)')
  .option('--idle-lock-minutes <n>', 'an unlocked vault unused this long locks itself (KEEPER_AGENT_IDLE_LOCK_MINUTES, default 15)')
  .option('--token-idle-minutes <n>', 'an agent token unused this long ends (KEEPER_AGENT_TOKEN_IDLE_MINUTES, default 60)')
  .option('--token-hours <n>', 'an agent token ends this long after login (KEEPER_AGENT_TOKEN_HOURS, default 24)')
  .option('--max-users <n>', 'replicas held in memory at most (KEEPER_AGENT_MAX_USERS, default 2000)')
  .option('--agent-tls-cert <file>', "the agent's PEM certificate (KEEPER_AGENT_TLS_CERT)")
  .option('--agent-tls-key <file>', "the agent's PEM private key (KEEPER_AGENT_TLS_KEY)")
  .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (KEEPER_LOG_LEVEL, default warn)')
  .action(async (flags) => (await agentCommand()).agentCommand({ ...program.opts(), ...flags }, out));
program
  .command('bot')
  .description('run the Telegram bot: each chat links its own Keeper account (token from KEEPER_TELEGRAM_TOKEN)')
  .option('--allow <ids>', 'only these Telegram user ids may use the bot, comma-separated (KEEPER_TELEGRAM_ALLOW; anyone by default)')
  .option('--webhook-url <url>', 'take updates at this public https address instead of polling (KEEPER_BOT_WEBHOOK_URL)')
  .option('--webhook-listen <host:port>', 'where the webhook listens (KEEPER_BOT_WEBHOOK_LISTEN, default 127.0.0.1:8443)')
  .option('--api-root <url>', 'the Bot API server (KEEPER_TELEGRAM_API_ROOT, default https://api.telegram.org)')
  .option('--health-listen <host:port>', 'answer GET /healthz here while the bot runs (KEEPER_HEALTH_LISTEN; off by default)')
  .option('--idle-lock-minutes <n>', 'an unlocked vault unused this long locks itself (KEEPER_BOT_IDLE_LOCK_MINUTES, default 15)')
  .option('--link-days <n>', "a chat's link unused this long ends (KEEPER_BOT_LINK_DAYS, default 30)")
  .option('--reveal-seconds <n>', 'a revealed value deletes itself after this long (KEEPER_BOT_REVEAL_SECONDS, default 30)')
  .option('--rate-per-minute <n>', 'messages and presses a chat may send a minute (KEEPER_BOT_RATE_PER_MINUTE, default 60)')
  .option('--max-users <n>', 'replicas held in memory at most (KEEPER_BOT_MAX_USERS, default 2000)')
  .option('--links-key-file <file>', "the key that seals the links file (KEEPER_BOT_LINKS_KEY_FILE, default <home>/bot/links.key)")
  .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (KEEPER_LOG_LEVEL, default warn)')
  .action(async (flags) => (await botCommand()).botCommand({ ...program.opts(), ...flags }, out));
program.command('keygen').description('print a new access-token signing key for KEEPER_TOKEN_KEY').action(async () => (await serverCommands()).keygenCommand(out));

const audit = program
  .command('audit')
  .description("operator's tool: reads the event store directly (read-only), replays it, checks the read model");
const auditOptions = (command: Command) =>
  command
    .option('--data-dir <dir>', 'the embedded database of this data directory (KEEPER_DATA_DIR, default ./.keeper); the server must be stopped')
    .option('--database-url <url>', 'PostgreSQL URL instead of the embedded database (KEEPER_DATABASE_URL)')
    .option('--event-store-url <url>', 'KurrentDB holding the event log, when the server keeps it there (KEEPER_EVENTSTORE_URL)');
auditOptions(audit.command('history').description("a user's events: version, time, type, record, changed fields, client, mutation"))
  .requiredOption('--user <login>', 'login (or user id)')
  .option('--record <id>', 'only this record (id or id prefix)')
  .option('--json', 'print JSON')
  .action(async (flags) => {
    const a = await auditCommands();
    await a.auditCommand((db, io) => a.auditHistory(db, flags, io), flags, out);
  });
auditOptions(audit.command('state').description("a user's records as they were at a version or a time, rebuilt from the log"))
  .requiredOption('--user <login>', 'login (or user id)')
  .requiredOption('--at <version|time>', 'a version (whole number) or an ISO 8601 time')
  .option('--json', 'print JSON')
  .action(async (flags) => {
    const a = await auditCommands();
    a.parseAt(flags.at); // a bad --at is refused before the database is opened
    await a.auditCommand((db, io) => a.auditState(db, flags, io), flags, out);
  });
auditOptions(audit.command('verify').description('replay every stream (or one) and compare with the read model; exit 0 only when they agree'))
  .option('--user <login>', 'only this user')
  .option('--strict', 'count a read model that is behind the log as a failure too')
  .option('--json', 'print JSON')
  .action(async (flags) => {
    const a = await auditCommands();
    await a.auditCommand((db, io) => a.auditVerify(db, flags, io), flags, out);
  });
auditOptions(audit.command('stats').description('users, events, stream lengths, projection checkpoint lag'))
  .option('--json', 'print JSON')
  .action(async (flags) => {
    const a = await auditCommands();
    await a.auditCommand((db, io) => a.auditStats(db, flags, io), flags, out);
  });

program
  .command('register')
  .description('create an account and log in (the password is asked for, or read from a pipe)')
  .option('--login <login>', 'login name')
  .action(clientAction((client, ctx, options: { login?: string }) => client.registerCommand(ctx, options)));
program
  .command('login')
  .description('log in (the password is asked for, or read from a pipe)')
  .option('--login <login>', 'login name')
  .action(clientAction((client, ctx, options: { login?: string }) => client.loginCommand(ctx, options)));
program.command('logout').description('end the session on this machine and on the server').action(clientAction((client, ctx) => client.logoutCommand(ctx)));
const sessions = program
  .command('sessions')
  .description("this user's sessions: where each is from (client id), when it started and was last used, which one is this")
  .option('--json', 'print JSON')
  .action(clientAction(async (_client, ctx, options: { json?: boolean }) => (await sessionCommands()).sessionsCommand(ctx, options)));
sessions
  .command('revoke [id]')
  .description('end a session (by id or a prefix of 8+ characters from `keeper sessions`), or every other one: it stops working at once')
  .option('--all-others', 'end every session but this one')
  .action(clientAction(async (_client, ctx, id: string | undefined, options: { allOthers?: boolean }) => (await sessionCommands()).revokeSessionsCommand(ctx, id, options)));
program.command('status').description('server and local versions, changes waiting, encryption').action(clientAction((client, ctx) => client.statusCommand(ctx)));
program.command('sync').description('pull what the server has, rebase local changes on it, push them').action(clientAction((client, ctx) => client.syncCommand(ctx)));
program
  .command('ls')
  .description('list records (from the local replica, synced first when the server is reachable)')
  .option('--json', 'print JSON (sensitive values masked)')
  .option('--tag <tag>', 'only records with this tag (any case)')
  .option('--favourites', 'only starred records')
  .action(clientAction((client, ctx, options: { json?: boolean; tag?: string; favourites?: boolean }) => client.listCommand(ctx, options)));
program
  .command('show <record>')
  .description('show one record, by id, id prefix or name')
  .option('--reveal', 'show sensitive values')
  .option('--json', 'print JSON')
  .action(clientAction((client, ctx, ref: string, options: { reveal?: boolean; json?: boolean }) => client.showCommand(ctx, ref, options)));
program
  .command('search <text>')
  .description('records whose name, field names or non-sensitive values contain the text (any case), names first')
  .option('--limit <n>', 'most results to show', '50')
  .option('--include-sensitive', 'search inside sensitive values too (card numbers, passwords)')
  .option('--json', 'print JSON')
  .action(clientAction((client, ctx, text: string, options: { json?: boolean; limit?: string; includeSensitive?: boolean }) => client.searchCommand(ctx, text, options)));
program
  .command('add <name>')
  .description('add a record')
  .option('--kind <kind>', 'login, card, note or custom', 'custom')
  .option('--field <name=value>', 'a field (repeatable)', collect)
  .option('--secret <name[=value]>', 'a sensitive field; without =value it is asked for unseen (repeatable)', collect)
  .option('--totp <name[=secret]>', 'a one-time-code field: an otpauth://totp/ URI or a base32 secret, asked for unseen without =secret (repeatable)', collect)
  .option('--generate <field>', 'a sensitive field holding a new random password (repeatable; keeper generate for other kinds)', collect)
  .option('--stdin <field>', 'a field whose value (a note of many lines) is read from standard input')
  .option('--editor <field>', 'a field whose value is written in $VISUAL / $EDITOR (repeatable)', collect)
  .option('--tag <tag>', 'a tag (repeatable)', collect)
  .option('--favourite', 'star the record (listed first)')
  .option('--seal-all', 'with encryption on: seal the name and every value, not only sensitive ones')
  .action(clientAction((client, ctx, name: string, options: FieldOptions & TagOptions & { kind?: string; sealAll?: boolean }) => client.addCommand(ctx, name, options)));
program
  .command('edit <record>')
  .description('change a record: rename, change kind, set or remove fields')
  .option('--name <name>', 'new name')
  .option('--kind <kind>', 'new kind')
  .option('--field <name=value>', 'set a field (repeatable)', collect)
  .option('--secret <name[=value]>', 'set a sensitive field (repeatable)', collect)
  .option('--totp <name[=secret]>', 'set a one-time-code field (repeatable)', collect)
  .option('--generate <field>', 'set a sensitive field to a new random password (repeatable)', collect)
  .option('--stdin <field>', 'set a field to what standard input holds (a note of many lines)')
  .option('--editor <field>', 'edit a field in $VISUAL / $EDITOR, starting from its value (repeatable)', collect)
  .option('--remove <field>', 'remove a field (repeatable)', collect)
  .option('--tag <tag>', 'add a tag (repeatable)', collect)
  .option('--untag <tag>', 'remove a tag (repeatable)', collect)
  .option('--favourite', 'star the record')
  .option('--no-favourite', 'unstar the record')
  .action(
    clientAction((client, ctx, ref: string, options: FieldOptions & TagOptions & { kind?: string; name?: string; remove?: string[] }) =>
      client.editCommand(ctx, ref, options),
    ),
  );
program
  .command('rm <record>')
  .description('delete a record (the history keeps it: keeper history --deleted)')
  .action(clientAction((client, ctx, ref: string) => client.removeCommand(ctx, ref)));
program
  .command('history [record]')
  .description("a record's versions from the log; without a record (or with --deleted) the deleted records")
  .option('--deleted', 'list deleted records')
  .option('--reveal', 'show sensitive values')
  .option('--json', 'print JSON')
  .action(clientAction((client, ctx, ref: string | undefined, options: { deleted?: boolean; reveal?: boolean; json?: boolean }) => client.historyCommand(ctx, ref, options)));
program
  .command('restore <record>')
  .description('put a record back as it was at a version (also brings back a deleted record)')
  .requiredOption('--version <n>', 'the version to restore, from keeper history')
  .action(clientAction((client, ctx, ref: string, options: { version?: string }) => client.restoreCommand(ctx, ref, options)));
program
  .command('encrypt')
  .description('turn on client-side encryption with a secret word; sensitive values are re-written sealed')
  .option('--all', 'seal every name and value, not only sensitive fields')
  .action(clientAction((client, ctx, options: { all?: boolean }) => client.encryptCommand(ctx, options)));
program.command('change-secret').description('change the secret word (re-wraps the vault key only)').action(clientAction((client, ctx) => client.changeSecretCommand(ctx)));
program.command('unlock').description('unlock the vault once and print KEEPER_SESSION for later commands').action(clientAction((client, ctx) => client.unlockCommand(ctx)));
program.command('lock').description('end the unlocked session (KEEPER_SESSION stops working)').action(clientAction((client, ctx) => client.lockCommand(ctx)));
program
  .command('tui')
  .description('full-screen terminal UI: log in, browse and filter, add, edit, delete, history (? lists the keys)')
  .option('--auto-lock <seconds>', 'lock the screen after this many idle seconds, 0 never (KEEPER_AUTO_LOCK_SECONDS, default 900)')
  .option('--sync-every <seconds>', 'how often to sync in the background (KEEPER_SYNC_SECONDS, default 15)')
  .action(async (options: { autoLock?: string; syncEvery?: string }) => {
    const config = (await clientConfig()).loadClientConfig(program.opts(), process.env);
    serverForErrors = config.server;
    await (await tuiCommand()).runTui({ config, flags: options, env: process.env, clientId: await clientId(config.home) });
  });

registerEverydayCommands(program, clientAction as ClientAction);

// Image commands load sharp (for a sealed image's cover), so only when used.
const images = () => import('../client/cli/image-commands.js');
const image = program.command('image').description('images attached to records: add, ls, get, rm');
image
  .command('add <record> <file>')
  .description(`upload a picture (${ACCEPTED_IMAGE_NAMES}) to a record (sealed first when the vault is encrypted)`)
  .option('--name <file-name>', 'the name to keep (default: the file name)')
  .action(clientAction(async (_client, ctx, ref: string, file: string, options: { name?: string }) => (await images()).imageAddCommand(ctx, ref, file, options)));
image
  .command('ls [record]')
  .description("a record's images (all images without a record), their status and the files saved here")
  .option('--json', 'print JSON')
  .action(clientAction(async (_client, ctx, ref: string | undefined, options: { json?: boolean }) => (await images()).imageListCommand(ctx, ref, options)));
image
  .command('get <image>')
  .description("download an image (default: its original) into the client's data directory or --out")
  .option('--rendition <which>', 'original, cover (120x120) or compact (at most 1 MB)', 'original')
  .option('--out <path>', 'a file or directory to write to')
  .action(clientAction(async (_client, ctx, ref: string, options: { rendition?: string; out?: string }) => (await images()).imageGetCommand(ctx, ref, options)));
image
  .command('rm <image>')
  .description('remove an image from its record')
  .action(clientAction(async (_client, ctx, ref: string) => (await images()).imageRemoveCommand(ctx, ref)));

registerImportExport(program, clientAction);

// Not top-level await: the build is a CommonJS script, which V8 can keep a code cache of.
async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are successes; commander has already printed its sentence for the rest.
      process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    } else {
      const { describeFailure } = await import('../client/cli/errors.js');
      const { message, exitCode } = describeFailure(error, serverForErrors);
      process.stderr.write(`keeper: ${escapeControls(message)}\n`);
      process.exitCode = exitCode;
    }
  }
}

void main();
