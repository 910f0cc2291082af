import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import sharp from 'sharp';
import { grpcVaultTransport } from '../../src/client/sync/grpc-transport.js';
import { MemoryReplicaStore } from '../../src/client/sync/memory-replica-store.js';
import { SyncEngine } from '../../src/client/sync/sync-engine.js';
import { KeeperClient } from '../../src/client/keeper-client.js';
import { MemoryTokenStore } from '../../src/client/token-store.js';
import { startTestBot, TestChat, type TestBot } from '../support/bot.js';
import { expectSentence, KEEPER, keeper } from '../support/cli.js';
import { pgliteTarget } from '../support/databases.js';
import { eventually } from '../support/eventually.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { TelegramStandIn, type BotMessage } from '../support/telegram-stand-in.js';

const PASSWORD = 'correct horse battery';
const SECRET = 'lantern orbit cobble ferry';
/** Values that must never reach a log line, whatever the test typed. */
const SENSITIVE = ['hunter2-on-the-mail', '4321-pin-of-mail', 'card-number-4111-1111', 'sealed-value-for-bank'];

// The bot is a client of the gRPC server like the agent; which database the server runs on changes
// nothing the bot does, so these run on PGlite (the server's own suites cover real PostgreSQL).
describe('the Telegram bot (PGlite)', function () {
  this.timeout(60_000);
  let server: TestServer;
  let standIn: TelegramStandIn;
  let bot: TestBot;
  let nextChat = 1_000;
  const extras: Array<{ close(): Promise<void> }> = [];

  before(async () => {
    server = await startTestServer(pgliteTarget);
    standIn = await TelegramStandIn.start();
    bot = await startTestBot(standIn, server.address, { revealSeconds: 0.4 });
  });
  after(async () => {
    for (const extra of extras.reverse()) await extra.close();
    await bot?.close();
    await standIn?.close();
    await server?.close();
  });

  function newChat(on = standIn): TestChat {
    return new TestChat(on, nextChat++);
  }

  /** A chat linked to a new Keeper account through /register. */
  async function registered(chat: TestChat): Promise<string> {
    const login = `bot-${randomUUID().slice(0, 8)}`;
    await chat.ask('/register', /Which login/);
    await chat.ask(login, /choose a password/);
    await chat.ask(PASSWORD, /Registered and logged in as/);
    return login;
  }

  /** Another device of the same user, syncing with the server directly. */
  async function device(login: string): Promise<SyncEngine> {
    const client = await server.client();
    const session = await client.login(login, PASSWORD);
    return SyncEngine.open({ transport: grpcVaultTransport(client), store: new MemoryReplicaStore(), userId: session.userId, clientId: 'other-device' });
  }

  /** The record message the bot shows for the first button matching `label`. */
  async function open(chat: TestChat, list: BotMessage, label: RegExp): Promise<BotMessage> {
    return chat.press(list, label, /updated .* UTC/);
  }

  it('links a chat with /register and /login, deleting the message with the password at once and saying so', async () => {
    const chat = newChat();
    expect((await chat.ask('/start', /not linked/)).text).to.contain('/login');
    const login = `bot-${randomUUID().slice(0, 8)}`;
    await chat.ask('/register', /Which login/);
    await chat.ask(login, /choose a password/);
    const { mark, messageId } = chat.send(PASSWORD);
    const told = await standIn.nextMessage(chat.id, /deleted your message with the password/, { after: mark });
    const deletion = standIn.callsOf('deleteMessage', chat.id, mark);
    expect(deletion.map((c) => Number(c.payload.message_id))).to.deep.equal([messageId]);
    // Deleted before the bot said anything else about it.
    expect(standIn.calls.indexOf(deletion[0]!)).to.be.lessThan(standIn.calls.findIndex((c) => c.payload.__message_id === told.message_id));
    await standIn.nextMessage(chat.id, /Registered and logged in as .*0 records/, { after: mark });

    await chat.ask('/logout', /Logged out/);
    await chat.ask('/list', /not linked to a Keeper account/);
    await chat.ask('/login', /Your Keeper login/);
    await chat.ask(login, /Now your password/);
    const wrong = chat.send('not the password at all');
    await standIn.nextMessage(chat.id, /login or the password is wrong/, { after: wrong.mark });
    expect(standIn.callsOf('deleteMessage', chat.id, wrong.mark).map((c) => Number(c.payload.message_id))).to.deep.equal([wrong.messageId]);

    // The password on the command line is taken too, and that message deleted as well.
    const inline = chat.send(`/login ${login} ${PASSWORD}`);
    await standIn.nextMessage(chat.id, /Logged in as/, { after: inline.mark });
    expect(standIn.callsOf('deleteMessage', chat.id, inline.mark).map((c) => Number(c.payload.message_id))).to.deep.equal([inline.messageId]);

    // A question can be dropped; a stray text gets a hint, not a guess.
    await chat.ask('/login', /Your Keeper login/);
    await chat.ask('/cancel', /Cancelled/);
    await chat.ask('just some words', /Send a command/);
  });

  it('adds a record through its kind’s fields, shows it masked, and reveals it in a message that deletes itself', async () => {
    const chat = newChat();
    await registered(chat);
    const kinds = await chat.ask('/add', /What kind/);
    expect(kinds.buttons.flat().map((b) => b.text.split(' ')[1])).to.deep.equal(['login', 'card', 'note', 'custom']);
    await chat.press(kinds, /login/, /name of the new login/);
    await chat.ask('Mail', /^user\?/);
    await chat.ask('ann@example.org', /^password\? \(sensitive/);
    const secretAnswer = chat.send(SENSITIVE[0]!);
    await standIn.nextMessage(chat.id, /^url\?/, { after: secretAnswer.mark });
    expect(standIn.callsOf('deleteMessage', chat.id, secretAnswer.mark).map((c) => Number(c.payload.message_id))).to.deep.equal([secretAnswer.messageId]);
    await chat.ask('-', /Fields: user, password\. Another field\?/);
    const pin = chat.send(`!pin=${SENSITIVE[1]}`);
    const more = await standIn.nextMessage(chat.id, /Fields: user, password, pin/, { after: pin.mark });
    expect(standIn.callsOf('deleteMessage', chat.id, pin.mark)).to.have.length(1);
    await chat.ask('no equals sign here', /Send the field as name=value/);
    const saved = await chat.press(more, /Save/, /updated .* UTC/);
    expect(saved.text).to.contain('Mail · login').and.contain('user: ann@example.org').and.contain('password: ******** (sensitive)').and.contain('pin: ******** (sensitive)');
    expect(saved.text).to.not.contain(SENSITIVE[0]).and.not.contain(SENSITIVE[1]);

    const revealed = await chat.press(saved, /Reveal/, /deletes itself/);
    expect(revealed.text).to.contain(`password: ${SENSITIVE[0]}`).and.contain(`pin: ${SENSITIVE[1]}`);
    await standIn.waitForCall((c) => c.method === 'deleteMessage' && Number(c.payload.message_id) === revealed.message_id, { what: 'the revealed message deleted' });
    expect(standIn.messages.get(revealed.message_id)!.deleted).to.equal(true);
    expect(standIn.messages.get(saved.message_id)!.deleted).to.equal(false);
  });

  it('lists in pages with buttons, searches, and edits and deletes only after a confirmation', async () => {
    const chat = newChat();
    const login = await registered(chat);
    const phone = await device(login);
    for (let i = 1; i <= 11; i++) await phone.create({ kind: 'note', name: `Note ${String(i).padStart(2, '0')}`, fields: [{ name: 'text', value: `words ${i}`, sensitive: false }] });
    await phone.create({ kind: 'login', name: 'Mail', fields: [{ name: 'user', value: 'ann', sensitive: false }, { name: 'url', value: 'https://mail.example', sensitive: false }] });
    await phone.sync();
    await chat.ask('/sync', /Synced: version \d+/);

    const list = await chat.ask('/list', /Records 1–8 of 12/);
    expect(list.buttons.slice(0, 8).map((row) => row[0]!.text)).to.deep.equal(['🔑 Mail', ...[1, 2, 3, 4, 5, 6, 7].map((i) => `📝 Note 0${i}`)]);
    const second = await chat.press(list, /Next/, /Records 9–12 of 12/);
    expect(second.message_id, 'the page turns in place').to.equal(list.message_id);
    expect(second.buttons.at(-1)!.map((b) => b.text)).to.deep.equal(['◀ Previous']);
    await chat.press(second, /Previous/, /Records 1–8 of 12/);

    const found = await chat.ask('/search note 1', /2 records match/);
    expect(found.buttons.map((row) => row[0]!.text)).to.have.members(['📝 Note 10', '📝 Note 11']);
    await chat.ask('/search zzz-nothing', /Nothing matches/);

    const mail = await open(chat, await chat.ask('/search mail', /1 record matches/), /Mail/);
    const menu = await chat.press(mail, /Edit/, /Edit “Mail”/);
    await chat.press(menu, /✏️ user/, /new value of user/);
    const confirm = await chat.ask('bob', /Set user of “Mail” to bob\?/);
    const after = await chat.press(confirm, /Save/, /user: bob/);
    expect(after.text).to.contain('url: https://mail.example');
    await phone.sync();
    const mailId = phone.records().find((r) => r.name === 'Mail')!.id;
    expect(phone.record(mailId)!.fields.find((f) => f.name === 'user')!.value).to.equal('bob');

    // A removal asked and cancelled changes nothing.
    const menu2 = await chat.press(after, /Edit/, /Edit “Mail”/);
    const ask = await chat.press(menu2, /remove/, /Remove the field user from “Mail”\?/);
    await chat.press(ask, /Cancel/, /Cancelled; nothing was changed/);
    await chat.ask('/sync', /Synced/);
    await phone.sync();
    expect(phone.record(mailId)!.fields.map((f) => f.name)).to.deep.equal(['user', 'url']);

    // Rename and a new field, each confirmed.
    const menu3 = await chat.press(after, /Edit/, /Edit “Mail”/);
    await chat.press(menu3, /Rename/, /new name of “Mail”/);
    const renamed = await chat.press(await chat.ask('Post', /Rename “Mail” to “Post”\?/), /Save/, /Post · login/);
    const menu4 = await chat.press(renamed, /Edit/, /Edit “Post”/);
    await chat.press(menu4, /Add field/, /new field as name=value/);
    await chat.press(await chat.ask('port=993', /Add port = 993 to “Post”\?/), /Save/, /port: 993/);

    const question = await chat.press(renamed, /Delete/, /Delete “Post”\?/);
    await chat.press(question, /^No$/, /Cancelled/);
    await phone.sync();
    expect(phone.record(mailId)).to.not.equal(undefined);
    await chat.press(question, /Yes, delete/, /Deleted “Post”/);
    await phone.sync();
    expect(phone.record(mailId)).to.equal(undefined);
    await chat.ask('/list', /Records 1–8 of 11/);
  });

  it('unlocks an encrypted vault with the secret word (that message deleted), and locks it again', async () => {
    const chat = newChat();
    const login = await registered(chat);
    const phone = await device(login);
    await phone.create({ kind: 'login', name: 'Bank', fields: [{ name: 'user', value: 'ann', sensitive: false }, { name: 'pin', value: SENSITIVE[3]!, sensitive: true }] });
    await phone.enableEncryption(SECRET);
    await chat.ask('/sync', /Synced/);

    const sealed = await open(chat, await chat.ask('/list', /Records 1–1 of 1/), /Bank/);
    expect(sealed.text).to.contain('pin: (sealed: /unlock to see it)').and.not.contain(SENSITIVE[3]);
    const lockedReveal = await chat.press(sealed, /Reveal/, /deletes itself/);
    expect(lockedReveal.text).to.not.contain(SENSITIVE[3]);

    await chat.ask('/unlock', /Send your secret word/);
    const wrong = chat.send('not the secret word');
    await standIn.nextMessage(chat.id, /secret word is wrong/, { after: wrong.mark });
    expect(standIn.callsOf('deleteMessage', chat.id, wrong.mark).map((c) => Number(c.payload.message_id))).to.include(wrong.messageId);
    await chat.ask('/unlock', /Send your secret word/);
    const right = chat.send(SECRET);
    await standIn.nextMessage(chat.id, /deleted your message with the secret word/, { after: right.mark });
    await standIn.nextMessage(chat.id, /Unlocked/, { after: right.mark });
    expect(standIn.messages.size).to.be.greaterThan(0);

    const opened = await open(chat, await chat.ask('/list', /Records/), /Bank/);
    expect(opened.text).to.contain('pin: ******** (sensitive)');
    const revealed = await chat.press(opened, /Reveal/, /deletes itself/);
    expect(revealed.text).to.contain(`pin: ${SENSITIVE[3]}`);
    // Locking deletes what was revealed at once, without waiting for its timer.
    const { mark } = chat.send('/lock');
    await standIn.nextMessage(chat.id, /Locked/, { after: mark });
    expect(standIn.messages.get(revealed.message_id)!.deleted).to.equal(true);
    const again = await open(chat, await chat.ask('/list', /Records/), /Bank/);
    expect(again.text).to.contain('pin: (sealed: /unlock to see it)');
    const status = await chat.ask('/status', /Logged in as/);
    expect(status.text).to.contain('Encryption: on, locked');
  });

  it('attaches a photo to the record chosen, and sends back its 120x120 cover and, on request, its compact copy', async () => {
    const chat = newChat();
    const login = await registered(chat);
    const kinds = await chat.ask('/add note', /name of the new note/);
    expect(kinds.text).to.contain('note');
    await chat.ask('Passport', /^text\?/);
    const record = await chat.press(await chat.ask('X1234567', /Another field\?/), /Save/, /Passport · note/);
    expect(record.buttons.flat().map((b) => b.text)).to.not.include('🖼 Cover');

    await chat.ask('/help', /Commands/);
    await chat.photo(await sharp({ create: { width: 64, height: 64, channels: 3, background: '#abc' } }).jpeg().toBuffer(), /Which record is this picture for/);
    await chat.press(record, /Attach photo/, /Send the photo for “Passport”/);
    const photo = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#39c' } }).jpeg().toBuffer();
    const attached = await chat.photo(photo, /Attached photo-\d{8}-\d{6}\.jpg to “Passport”/);
    expect(attached.text).to.contain('making its cover');

    const phone = await device(login);
    await phone.sync();
    const recordId = phone.records().find((r) => r.name === 'Passport')!.id;
    expect(phone.imagesOf(recordId).map((i) => i.original.width)).to.deep.equal([640]);

    // The server's image worker makes the cover in the background: ask until the photo comes.
    const shown = await open(chat, await chat.ask('/search passport', /1 record matches/), /Passport/);
    const cover = await eventually(
      'the cover sent as a photo',
      async () => {
        const mark = standIn.mark();
        standIn.pressLabel(chat.who, shown, /Cover/);
        const answer = await standIn.waitForCall((c) => (c.method === 'sendPhoto' || c.method === 'sendMessage') && Number(c.payload.chat_id) === chat.id, { after: mark });
        return answer.method === 'sendPhoto' ? answer : undefined;
      },
      20_000,
      300,
    );
    const meta = await sharp(cover.files.photo!.bytes).metadata();
    expect([meta.width, meta.height]).to.deep.equal([120, 120]);
    expect(String(cover.payload.caption)).to.match(/photo-.*\.jpg · cover/);

    const compactMark = standIn.mark();
    standIn.press(chat.who, standIn.messages.get(Number(cover.payload.__message_id))!, JSON.parse(String(cover.payload.reply_markup)).inline_keyboard[0][0].callback_data);
    const compact = await standIn.waitForCall((c) => c.method === 'sendDocument' && Number(c.payload.chat_id) === chat.id, { after: compactMark, what: 'the compact copy' });
    const compactMeta = await sharp(compact.files.document!.bytes).metadata();
    expect(compactMeta.width).to.equal(640);
    expect(compact.files.document!.bytes.length).to.be.at.most(1_000_000);
  });

  it('shows each chat only its own Keeper user, even to forged buttons', async () => {
    const ann = newChat();
    const bob = newChat();
    await registered(ann);
    await registered(bob);
    await ann.ask('/add note', /name/);
    await ann.ask('Ann diary', /^text\?/);
    const saved = await ann.press(await ann.ask('ann-only words', /Another field\?/), /Save/, /Ann diary · note/);
    const annId = saved.buttons.flat().find((b) => b.text === '✏️ Edit')!.data.split(':')[1]!;

    await bob.ask('/list', /Your vault is empty/);
    await bob.ask('/search diary', /Nothing matches/);
    for (const forged of [`r:${annId}`, `v:${annId}`, `dy:${annId}`, `e:${annId}`, `c:${annId}`, `p:${annId}`]) {
      const mark = standIn.mark();
      standIn.press(bob.who, saved.message_id, forged);
      const answer = await standIn.nextMessage(bob.id, /./, { after: mark });
      expect(answer.text, forged).to.match(/No record/i);
    }
    for (const junk of ['r:not-a-uuid', 'zz:1', '', 'l:-1']) {
      const mark = standIn.mark();
      standIn.press(bob.who, saved.message_id, junk);
      expect((await standIn.nextMessage(bob.id, /./, { after: mark })).text).to.match(/no longer valid/);
    }
    expect(standIn.textsTo(bob.id).join('\n')).to.not.contain('Ann diary').and.not.contain('ann-only words');
    await ann.ask('/list', /Records 1–1 of 1/);
  });

  it('refuses a group chat with a sentence and leaves it, touching nothing', async () => {
    const group = TelegramStandIn.groupChat(-100_777, 4242);
    for (const text of ['/list', '/login', 'hello']) {
      const mark = standIn.mark();
      standIn.sendText(group, text);
      const refused = await standIn.nextMessage(group.chat.id, /only work in a private chat/, { after: mark });
      expect(refused.text).to.contain('not for a group');
      await standIn.waitForCall((c) => c.method === 'leaveChat' && Number(c.payload.chat_id) === group.chat.id, { after: mark });
    }
    expect(bot.bot.links.link(group.chat.id)).to.equal(undefined);
  });

  it('slows down a chat that floods it, and only that chat', async () => {
    const flooder = newChat();
    const mark = standIn.mark();
    for (let i = 0; i < 75; i++) standIn.sendText(flooder.who, '/help');
    await standIn.nextMessage(flooder.id, /You are sending faster than I answer/, { after: mark });
    const calm = newChat();
    await calm.ask('/help', /Commands/);
    await eventually('the flood answered as far as it is answered', async () => (standIn.textsTo(flooder.id, mark).filter((t) => t.startsWith('Keeper keeps')).length >= 60 ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const texts = standIn.textsTo(flooder.id, mark);
    expect(texts.filter((t) => t.startsWith('Keeper keeps')).length, 'a minute’s worth (60) is answered').to.equal(60);
    expect(texts.filter((t) => /sending faster/.test(t))).to.have.length(1);
  });

  it('keeps links across a restart, sealed at rest, but never an unlocked vault', async () => {
    const chat = newChat();
    const login = await registered(chat);
    const phone = await device(login);
    await phone.create({ kind: 'card', name: 'Visa', fields: [{ name: 'number', value: SENSITIVE[2]!, sensitive: true }] });
    await phone.enableEncryption(SECRET);
    await chat.ask('/sync', /Synced/);
    await chat.ask(`/unlock ${SECRET}`, /Unlocked/);
    const userId = bot.bot.links.link(chat.id)!.userId;
    const refreshToken = bot.bot.links.session(userId)!.refreshToken;

    await bot.restart();
    const dir = join(bot.home, 'bot');
    const sealed = await readFile(join(dir, 'links.sealed'), 'utf8');
    expect(sealed.startsWith('kbl1.')).to.equal(true);
    for (const plain of [login, userId, refreshToken, String(chat.id)]) expect(sealed).to.not.contain(plain);
    expect((await stat(join(dir, 'links.key'))).mode & 0o777).to.equal(0o600);
    expect((await stat(join(dir, 'links.sealed'))).mode & 0o777).to.equal(0o600);

    const status = await chat.ask('/status', /Logged in as/);
    expect(status.text).to.contain(login).and.contain('Encryption: on, locked');
    const card = await open(chat, await chat.ask('/list', /Records 1–1 of 1/), /Visa/);
    expect(card.text).to.contain('number: (sealed: /unlock to see it)');
    await chat.ask(`/unlock ${SECRET}`, /Unlocked/);
  });

  it('ends a link left unused for longer than --link-days at the next start, with its server session', async () => {
    let clock = Date.now();
    const ownStandIn = await TelegramStandIn.start();
    const ownBot = await startTestBot(ownStandIn, server.address, { linkDays: 1 }, {}, { now: () => clock });
    extras.push(ownStandIn, ownBot);
    const chat = newChat(ownStandIn);
    await registered(chat);
    const userId = ownBot.bot.links.link(chat.id)!.userId;
    const session = ownBot.bot.links.session(userId)!;
    await ownBot.restart();
    await chat.ask('/status', /Logged in as/);

    clock += 2 * 24 * 3_600_000;
    await ownBot.restart();
    expect(ownBot.bot.links.link(chat.id)).to.equal(undefined);
    expect(ownBot.bot.links.session(userId)).to.equal(undefined);
    await chat.ask('/status', /not linked to a Keeper account/);
    const client = new KeeperClient({ server: server.address, tls: false }, new MemoryTokenStore(session), 5_000);
    try {
      let refused: unknown;
      await client.status().catch((error) => (refused = error));
      expect(String(refused)).to.match(/session ended/);
    } finally {
      client.close();
    }
  });

  it('says the server cannot be reached, and keeps serving, when the Keeper server goes away', async () => {
    const lonely = await startTestServer(pgliteTarget);
    const ownStandIn = await TelegramStandIn.start();
    const ownBot = await startTestBot(ownStandIn, lonely.address, { timeout: 2000 });
    extras.push(ownStandIn, ownBot);
    const chat = newChat(ownStandIn);
    await registered(chat);
    await chat.ask('/add note', /name/);
    await chat.ask('Shopping', /^text\?/);
    await chat.ask('milk', /Another field/).then((more) => chat.press(more, /Save/, /Shopping · note/));

    await lonely.close();
    const synced = await chat.ask('/sync', /./);
    expect(synced.text).to.equal('The Keeper server cannot be reached right now; nothing was changed. Try again in a moment.');
    const list = await chat.ask('/list', /Records 1–1 of 1/);
    expect(list.text).to.contain('the server cannot be reached');
    const stranger = newChat(ownStandIn);
    await stranger.ask('/login', /login/);
    await stranger.ask('someone', /password/);
    await stranger.ask(PASSWORD, /cannot be reached right now/);
    await chat.ask('/help', /Commands/);
    expect(await ownBot.logText()).to.contain('could not be reached');
  });

  it('refuses a stranger under the allowlist, and locks an unlocked vault left idle', async () => {
    const ownStandIn = await TelegramStandIn.start();
    const allowed = newChat(ownStandIn);
    const stranger = newChat(ownStandIn);
    const ownBot = await startTestBot(ownStandIn, server.address, { allow: String(allowed.id), idleLockMinutes: 0.02 });
    extras.push(ownStandIn, ownBot);

    const refused = await stranger.ask('/start', /./);
    expect(refused.text).to.equal(`This Keeper bot is private: your Telegram account (id ${stranger.id}) is not on its list. Ask whoever runs it to add you.`);
    await stranger.ask('/register', /not on its list/);
    expect(ownStandIn.textsTo(stranger.id).every((t) => /not on its list/.test(t))).to.equal(true);

    const login = await registered(allowed);
    const phone = await device(login);
    await phone.create({ kind: 'login', name: 'Router', fields: [{ name: 'password', value: 'router-secret-value', sensitive: true }] });
    await phone.enableEncryption(SECRET);
    await allowed.ask('/sync', /Synced/);
    await allowed.ask(`/unlock ${SECRET}`, /Unlocked: .* 0\.02 idle minutes/);
    await allowed.ask('/status', /on, unlocked/);
    // Each message to the bot is use and restarts the clock: the test waits in silence, then asks once.
    await new Promise((resolve) => setTimeout(resolve, 1_800));
    expect((await allowed.ask('/status', /Logged in/)).text).to.contain('Encryption: on, locked');
  });

  it('takes updates through a webhook only with the secret Telegram was given', async () => {
    const ownStandIn = await TelegramStandIn.start();
    const ownBot = await startTestBot(ownStandIn, server.address, { webhookUrl: 'https://bot.example/telegram-hook', webhookListen: '127.0.0.1:0' });
    extras.push(ownStandIn, ownBot);
    const set = ownStandIn.callsOf('setWebhook')[0]!;
    expect(set.payload.url).to.equal('https://bot.example/telegram-hook');
    expect(set.payload.secret_token).to.equal(ownBot.bot.webhookSecret);
    expect(ownStandIn.callsOf('getUpdates' as string)).to.have.length(0);

    const chat = TelegramStandIn.privateChat(nextChat++);
    const update = (text: string) => JSON.stringify({ update_id: 1, message: { message_id: 5, date: 0, chat: chat.chat, from: chat.from, text } });
    const post = (body: string, secret: string | undefined, path = '/telegram-hook') =>
      fetch(`http://${ownBot.bot.webhook!.address}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(secret ? { 'x-telegram-bot-api-secret-token': secret } : {}) }, body });
    expect((await post(update('/help'), 'a wrong secret of some length')).status).to.equal(401);
    expect((await post(update('/help'), undefined)).status).to.equal(401);
    expect((await post('{not json', ownBot.bot.webhookSecret)).status).to.equal(400);
    expect((await post(update('/help'), ownBot.bot.webhookSecret, '/elsewhere')).status).to.equal(404);
    const mark = ownStandIn.mark();
    expect((await post(update('/help'), ownBot.bot.webhookSecret)).status).to.equal(200);
    await ownStandIn.nextMessage(chat.chat.id, /Commands/, { after: mark });
    expect(ownStandIn.textsTo(chat.chat.id)).to.have.length(1);
  });

  it('runs as `keeper bot`, and stops with a sentence when Telegram refuses the token or it is missing', async () => {
    const home = join(bot.home, 'cli');
    expectSentence(await keeper(['bot', '--home', home], {}), 2, /KEEPER_TELEGRAM_TOKEN: is required/);
    const wrong = '999:WRONG_token_that_is_long_enough_x';
    const refused = await keeper(['bot', '--home', home, '--api-root', standIn.apiRoot], { KEEPER_TELEGRAM_TOKEN: wrong });
    expectSentence(refused, 2, /Telegram refused the token in KEEPER_TELEGRAM_TOKEN \(401 Unauthorized\)/);
    expect(refused.stderr + refused.stdout).to.not.contain(wrong);
    expectSentence(await keeper(['bot', '--home', home, '--allow', 'alice'], { KEEPER_TELEGRAM_TOKEN: standIn.token }), 2, /--allow \/ KEEPER_TELEGRAM_ALLOW.*Telegram user ids/);
  });

  it('answers GET /healthz as `keeper bot` with --health-listen while it runs (a container asks it), and stops cleanly', async () => {
    const ownStandIn = await TelegramStandIn.start();
    const home = await mkdtemp(join(tmpdir(), 'keeper-bot-health-'));
    const health = `127.0.0.1:${await freePort()}`;
    const child = spawn(process.execPath, [KEEPER, 'bot', '--home', home, '--server', server.address, '--api-root', ownStandIn.apiRoot, '--health-listen', health], {
      env: { PATH: process.env.PATH ?? '', KEEPER_TELEGRAM_TOKEN: ownStandIn.token },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      const answer = await eventually(
        'the bot health endpoint',
        async () => {
          const response = await fetch(`http://${health}/healthz`).catch(() => undefined);
          return response?.status === 200 ? ((await response.json()) as unknown) : undefined;
        },
        30_000,
        200,
      );
      expect(answer).to.deep.equal({ status: 'serving' });
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).to.equal(0);
      const after = await fetch(`http://${health}/healthz`).then(
        () => 'answered',
        (error: Error & { cause?: { code?: string } }) => error.cause?.code,
      );
      expect(after).to.equal('ECONNREFUSED');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await ownStandIn.close();
      await rm(home, { recursive: true, force: true });
    }
  });

  it('writes no password, secret word, value or token into its log', async () => {
    const logs = await bot.logText();
    expect(logs).to.contain('update handled');
    for (const secret of [PASSWORD, SECRET, ...SENSITIVE, standIn.token]) expect(logs, secret).to.not.contain(secret);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
