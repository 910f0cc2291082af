import { expect } from 'chai';
import { data, readAction } from '../../src/client/bot/buttons.js';
import { readCommand, readUpdate } from '../../src/client/bot/incoming.js';

const chat = { id: 5, type: 'private' };
const from = { id: 5, is_bot: false, first_name: 'Ann' };
const ID = '1B4E28BA-2FA1-11D2-883F-0016D3CCA427';

describe('what the bot reads from Telegram', () => {
  it('reads texts, the largest photo, picture files and button presses, and leaves bots and malformed updates alone', () => {
    expect(readUpdate({ update_id: 1, message: { message_id: 2, chat, from, text: '/list' } })).to.deep.include({ kind: 'text', text: '/list', chatId: 5, userId: 5, chatType: 'private' });
    const photo = readUpdate({ update_id: 1, message: { message_id: 2, chat, from, caption: 'Mail', photo: [{ file_id: 'small', width: 90, height: 90 }, { file_id: 'big', width: 800, height: 600, file_size: 5 }] } });
    expect(photo).to.deep.include({ kind: 'picture', fileId: 'big', fileSize: 5, caption: 'Mail' });
    expect(readUpdate({ update_id: 1, message: { message_id: 2, chat, from, document: { file_id: 'doc', file_name: 'scan.png' } } })).to.deep.include({ kind: 'picture', fileId: 'doc', fileName: 'scan.png' });
    expect(readUpdate({ update_id: 1, callback_query: { id: 'q', from, data: 'l:1', message: { message_id: 9, chat } } })).to.deep.include({ kind: 'button', data: 'l:1', messageId: 9 });
    expect(readUpdate({ update_id: 1, message: { message_id: 2, chat, from, sticker: {} } })).to.deep.include({ kind: 'other' });
    for (const ignored of [
      { update_id: 1, message: { message_id: 2, chat, from: { ...from, is_bot: true }, text: 'hi' } },
      { update_id: 1, channel_post: { message_id: 2, chat, text: 'hi' } },
      { update_id: 1, message: { message_id: 'x', chat, from, text: 'hi' } },
      { update_id: 1, message: { message_id: 2, chat, from, text: 'x'.repeat(5000) } },
      'not an update',
    ]) {
      expect(readUpdate(ignored), JSON.stringify(ignored).slice(0, 80)).to.equal(undefined);
    }
  });

  it('reads commands with their arguments, also addressed to the bot by name', () => {
    expect(readCommand('/search  mail box ')).to.deep.equal({ name: 'search', args: 'mail box' });
    expect(readCommand('/List@keeper_bot')).to.deep.equal({ name: 'list', args: '' });
    expect(readCommand('just text')).to.equal(undefined);
    expect(readCommand('/')).to.equal(undefined);
  });

  it('reads only the buttons it made: ids as UUIDs (lower-cased), indexes and kinds in range', () => {
    expect(readAction(data('r', ID))).to.deep.equal({ type: 'show', args: ['r', ID.toLowerCase()] });
    expect(readAction(data('ef', ID, 3))).to.deep.equal({ type: 'editField', args: ['ef', ID.toLowerCase(), 3] });
    expect(readAction('ak:card')).to.deep.equal({ type: 'addKind', args: ['ak', 'card'] });
    expect(readAction('ok')).to.deep.equal({ type: 'save', args: ['ok'] });
    for (const bad of ['r:not-a-uuid', `r:${ID}:extra`, 'ak:secret', 'ef:' + ID + ':100', 'l:-1', 'zz', '']) expect(readAction(bad), bad).to.equal(undefined);
  });
});
