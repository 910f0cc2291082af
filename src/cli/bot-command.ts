import { loadBotConfig } from '../config/bot-config.js';
import { startBot } from '../client/bot/start-bot.js';
import { createLogger } from '../logging.js';
import { ensureWritableDirectory } from '../lib/writable-dir.js';
import { untilSignal } from './until-signal.js';
import { startHealthEndpoint } from '../composition/health-endpoint.js';
import { splitHostPort } from '../config/env.js';

/** `keeper bot`: the Telegram bot over the configured Keeper server, until Ctrl-C (or until Telegram refuses it). */
export async function botCommand(flags: Record<string, unknown>, out: (text: string) => void): Promise<void> {
  const config = loadBotConfig(flags, process.env);
  await ensureWritableDirectory(config.home, '--home / KEEPER_HOME');
  const logger = createLogger(config.logLevel, 'keeper-bot');
  let fatal: Error | undefined;
  let wake = () => {};
  const refused = new Promise<void>((resolve) => (wake = resolve));
  const bot = await startBot(config, logger, {
    onFatal: (error) => {
      fatal = error;
      wake();
    },
  });
  // Listening before saying so: a Ctrl-C right after the banner still stops the bot cleanly.
  const signal = untilSignal();
  // The bot has no database of its own: healthy is running (a bot Telegram refuses stops, and says why).
  const health = config.healthListen
    ? await startHealthEndpoint(splitHostPort(config.healthListen), async () => {}, { dependency: 'the bot' }, logger).catch(async (error: unknown) => {
        await bot.stop();
        throw error;
      })
    : undefined;
  const how = bot.webhook ? `taking updates at ${config.webhookUrl} (listening on ${bot.webhook.address})` : 'polling Telegram for updates';
  out(`Keeper bot @${bot.username} ${how}, over the server at ${config.server}`);
  out(`  ${bot.links.all().length} chats linked; data in ${config.dataDir}   (Ctrl-C stops the bot: links are kept, every vault is locked)`);
  await Promise.race([signal, refused]);
  await health?.stop();
  await bot.stop();
  if (fatal) throw fatal;
  out('Keeper bot stopped.');
}
