import { expect } from 'chai';
import { loadBotConfig } from '../../src/config/bot-config.js';
import { refusal } from '../support/config-refusal.js';

const TOKEN = '123456789:AAE_fake-token-for-the-config-tests';

describe('bot config', () => {
  it('polls Telegram by default, with lifetimes and limits a user can read, its data under KEEPER_HOME/bot', () => {
    const config = loadBotConfig({ home: '/tmp/keeper-home' }, { KEEPER_TELEGRAM_TOKEN: TOKEN });
    expect(config).to.include({ token: TOKEN, apiRoot: 'https://api.telegram.org', dataDir: '/tmp/keeper-home/bot', idleLockMinutes: 15, linkDays: 30, revealSeconds: 30, ratePerMinute: 60 });
    expect(config.webhookUrl).to.equal(undefined);
    expect(config.allow).to.deep.equal([]);
  });

  it('takes the allowlist as comma-separated Telegram user ids, flags over variables', () => {
    expect(loadBotConfig({}, { KEEPER_TELEGRAM_TOKEN: TOKEN, KEEPER_TELEGRAM_ALLOW: '42, 7' }).allow).to.deep.equal(['42', '7']);
    expect(loadBotConfig({ allow: '9' }, { KEEPER_TELEGRAM_TOKEN: TOKEN, KEEPER_TELEGRAM_ALLOW: '42' }).allow).to.deep.equal(['9']);
    expect(refusal(() => loadBotConfig({}, { KEEPER_TELEGRAM_TOKEN: TOKEN, KEEPER_TELEGRAM_ALLOW: '42,alice' }))).to.match(/KEEPER_TELEGRAM_ALLOW.*Telegram user ids/);
  });

  it('needs the token from the environment, and never repeats it (or the webhook secret) in a refusal', () => {
    expect(refusal(() => loadBotConfig({}, {}))).to.match(/KEEPER_TELEGRAM_TOKEN: is required/);
    // A flag would show the token in the process list: only the environment counts.
    expect(refusal(() => loadBotConfig({ token: TOKEN }, {}))).to.match(/KEEPER_TELEGRAM_TOKEN/);
    const bad = 'not-a-token-but-secret-words';
    const message = refusal(() => loadBotConfig({}, { KEEPER_TELEGRAM_TOKEN: bad }));
    expect(message).to.match(/KEEPER_TELEGRAM_TOKEN: must be the token BotFather gave/);
    expect(message).to.not.contain(bad);
    const secret = 'short secret!';
    const webhook = refusal(() => loadBotConfig({}, { KEEPER_TELEGRAM_TOKEN: TOKEN, KEEPER_BOT_WEBHOOK_URL: 'https://bot.example/hook', KEEPER_BOT_WEBHOOK_SECRET: secret }));
    expect(webhook).to.match(/KEEPER_BOT_WEBHOOK_SECRET/).and.not.contain(secret);
  });

  it('names each bad value and what is expected', () => {
    const env = { KEEPER_TELEGRAM_TOKEN: TOKEN };
    expect(refusal(() => loadBotConfig({ webhookUrl: 'http://bot.example/hook' }, env))).to.match(/--webhook-url \/ KEEPER_BOT_WEBHOOK_URL.*https URL/);
    expect(refusal(() => loadBotConfig({}, { ...env, KEEPER_BOT_REVEAL_SECONDS: '0' }))).to.match(/KEEPER_BOT_REVEAL_SECONDS.*above zero/);
    expect(refusal(() => loadBotConfig({}, { ...env, KEEPER_BOT_RATE_PER_MINUTE: 'lots' }))).to.match(/KEEPER_BOT_RATE_PER_MINUTE.*whole number/);
    expect(refusal(() => loadBotConfig({}, { ...env, KEEPER_BOT_WEBHOOK_SECRET: 'a'.repeat(20) }))).to.match(/only for a webhook/);
    expect(loadBotConfig({ apiRoot: 'http://127.0.0.1:8081/' }, env).apiRoot).to.equal('http://127.0.0.1:8081');
    expect(refusal(() => loadBotConfig({}, { ...env, KEEPER_HEALTH_LISTEN: 'anywhere' }))).to.match(/--health-listen \/ KEEPER_HEALTH_LISTEN \(got "anywhere"\): must be host:port/);
    expect(loadBotConfig({}, { ...env, KEEPER_HEALTH_LISTEN: '127.0.0.1:8080' }).healthListen).to.equal('127.0.0.1:8080');
    expect(loadBotConfig({}, env).healthListen).to.equal(undefined);
  });
});
