import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { loadClientConfig } from '../config/client-config.js';
import { KeeperClient } from '../client/keeper-client.js';
import { SessionStore } from '../client/session-store.js';
import { readFileIfExists, writeFileAtomic } from '../lib/atomic-file.js';
import * as client from '../client/cli/commands.js';
import { describeFailure } from './errors.js';
import { EXIT } from './exit-codes.js';

const out = (text: string) => process.stdout.write(`${text}\n`);
// Server code (PGlite, bcrypt, pg) loads only for server commands, so client commands start fast.
const serverCommands = () => import('./server-commands.js');
const collect = (value: string, previous: string[] = []) => [...previous, value];
let serverForErrors: string | undefined;

function serverOptions(command: Command): Command {
  return command
    .option('--data-dir <dir>', 'where embedded data lives (KEEPER_DATA_DIR, default ./.keeper)')
    .option('--database-url <url>', 'PostgreSQL URL instead of the embedded database (KEEPER_DATABASE_URL)')
    .option('--listen <host:port>', 'gRPC address to listen on (KEEPER_LISTEN, default 127.0.0.1:7070)')
    .option('--access-ttl <seconds>', 'access token lifetime (KEEPER_ACCESS_TTL, default 900)')
    .option('--refresh-ttl <seconds>', 'refresh token lifetime (KEEPER_REFRESH_TTL, default 30 days)')
    .option('--tls-cert <file>', 'PEM certificate chain for TLS (KEEPER_TLS_CERT)')
    .option('--tls-key <file>', 'PEM private key for TLS (KEEPER_TLS_KEY)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (KEEPER_LOG_LEVEL, default warn)');
}

/** A client command: builds the gRPC client from validated config and always closes it. */
function clientAction<A extends unknown[]>(run: (ctx: { client: KeeperClient; clientId: string; server: string }, ...args: A) => Promise<void>) {
  return async (...args: A) => {
    const flags = program.opts();
    const config = loadClientConfig(flags, process.env);
    serverForErrors = config.server;
    const keeper = new KeeperClient({ server: config.server, tls: config.tls, tlsCa: config.tlsCa }, new SessionStore(config.home, config.server), config.timeoutMs);
    try {
      await run({ client: keeper, clientId: await clientId(config.home), server: config.server }, ...args);
    } finally {
      keeper.close();
    }
  };
}

/** A stable id for this installation, recorded in every event it causes. */
async function clientId(home: string): Promise<string> {
  const path = join(home, 'client-id');
  const existing = (await readFileIfExists(path))?.trim();
  if (existing) return existing;
  const id = `cli-${randomUUID()}`;
  await writeFileAtomic(path, id);
  return id;
}

const program = new Command('keeper')
  .description('Keeper: a personal data vault with an event-sourced sync engine')
  .option('--server <host:port>', 'Keeper server address (KEEPER_SERVER, default 127.0.0.1:7070)')
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
  .action(async (flags) => (await serverCommands()).serverCommand(flags));
serverOptions(program.command('projector').description('run the projector that builds the read model'))
  .option('--rebuild', 'empty the read model, replay the whole log into it, and exit')
  .action(async (flags) => (await serverCommands()).projectorCommand(flags, out));
program.command('keygen').description('print a new access-token signing key for KEEPER_TOKEN_KEY').action(async () => (await serverCommands()).keygenCommand(out));

program
  .command('register')
  .description('create an account and log in (the password is asked for, or read from a pipe)')
  .option('--login <login>', 'login name')
  .action(clientAction(({ client: c }, options: { login?: string }) => client.registerCommand(c, options, out)));
program
  .command('login')
  .description('log in (the password is asked for, or read from a pipe)')
  .option('--login <login>', 'login name')
  .action(clientAction(({ client: c }, options: { login?: string }) => client.loginCommand(c, options, out)));
program.command('logout').description('end the session on this machine and on the server').action(clientAction(({ client: c }) => client.logoutCommand(c, out)));
program.command('status').description("the vault's version and last change").action(clientAction(({ client: c, server }) => client.statusCommand(c, server, out)));
program
  .command('ls')
  .description('list records')
  .option('--json', 'print JSON (sensitive values masked)')
  .action(clientAction(({ client: c }, options: { json?: boolean }) => client.listCommand(c, options, out)));
program
  .command('show <record>')
  .description('show one record, by id, id prefix or name')
  .option('--reveal', 'show sensitive values')
  .option('--json', 'print JSON')
  .action(clientAction(({ client: c }, ref: string, options: { reveal?: boolean; json?: boolean }) => client.showCommand(c, ref, options, out)));
program
  .command('add <name>')
  .description('add a record')
  .option('--kind <kind>', 'login, card, note or custom', 'custom')
  .option('--field <name=value>', 'a field (repeatable)', collect)
  .option('--secret <name[=value]>', 'a sensitive field; without =value it is asked for unseen (repeatable)', collect)
  .action(clientAction(({ client: c, clientId: id }, name: string, options: client.FieldOptions & { kind?: string }) => client.addCommand(c, name, options, id, out)));
program
  .command('edit <record>')
  .description('change a record: rename, change kind, set or remove fields')
  .option('--name <name>', 'new name')
  .option('--kind <kind>', 'new kind')
  .option('--field <name=value>', 'set a field (repeatable)', collect)
  .option('--secret <name[=value]>', 'set a sensitive field (repeatable)', collect)
  .option('--remove <field>', 'remove a field (repeatable)', collect)
  .action(
    clientAction(({ client: c, clientId: id }, ref: string, options: client.FieldOptions & { kind?: string; name?: string; remove?: string[] }) =>
      client.editCommand(c, ref, options, id, out),
    ),
  );
program
  .command('rm <record>')
  .description('delete a record')
  .action(clientAction(({ client: c, clientId: id }, ref: string) => client.removeCommand(c, ref, id, out)));

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version are successes; commander has already printed its sentence for the rest.
    process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else {
    const { message, exitCode } = describeFailure(error, serverForErrors);
    process.stderr.write(`keeper: ${message}\n`);
    process.exitCode = exitCode;
  }
}
