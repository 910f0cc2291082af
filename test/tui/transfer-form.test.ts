import { expect } from 'chai';
import { formatOf, needsPassword, transferForm, transferKey, transferLines, transferPath, type TransferState } from '../../src/client/tui/screens/transfer.js';
import { previewLines } from '../../src/client/tui/transfer-actions.js';
import type { Key } from '../../src/client/tui/kit/keys.js';
import type { ImportPlan } from '../../src/client/core/import/run-import.js';

const key = (full: string): Key => ({ full, name: full, ch: full.length === 1 ? full : undefined }) as Key;

function press(state: TransferState, ...keys: string[]): TransferState {
  for (const k of keys) state = transferKey(state, key(k)).state;
  return state;
}

describe('the TUI import/export prompt', () => {
  it('chooses the format with Left/Right, asks a password only for formats that take one, and moves between the boxes it shows', () => {
    let state = transferForm('import');
    expect(formatOf(state)).to.equal('bitwarden-json');
    expect(needsPassword(state)).to.equal(false);
    state = press(state, 'left');
    expect(formatOf(state)).to.equal('keeper');
    expect(needsPassword(state)).to.equal(true);
    expect(press(state, 'tab', 'tab').row).to.equal(2);
    state = press(transferForm('import'), 'right', 'right', 'right');
    expect(formatOf(state)).to.equal('kdbx');
    state = press(transferForm('import'), 'tab', 'tab');
    expect(state.row).to.equal(0);
    expect(transferKey(state, key('enter')).action).to.equal('submit');
    expect(transferKey(state, key('escape')).action).to.equal('cancel');
  });

  it('offers an export path that follows the format, and reads ~ as the home directory', () => {
    let state = transferForm('export');
    expect(state.path.text).to.equal('~/keeper-export.json');
    state = press(state, 'right');
    expect([formatOf(state), state.path.text]).to.deep.equal(['csv', '~/keeper-export.csv']);
    state = press(state, 'right');
    expect([formatOf(state), state.path.text, needsPassword(state)]).to.deep.equal(['encrypted', '~/keeper-export.keeper', true]);
    expect(transferPath(state, '/home/tess')).to.equal('/home/tess/keeper-export.keeper');
    expect(transferLines(state, 70, { busy: false }).join('\n')).to.contain('Password');
  });

  it('a typed change drops a shown dry run, so Enter shows it again before importing', () => {
    const state = { ...press(transferForm('import'), 'tab'), preview: ['would create 1'] };
    expect(press(state, 'a').preview).to.equal(undefined);
  });

  it('sums up a dry run: what would be created, what is there, what does not map', () => {
    const item = { sourceId: 's', kind: 'login' as const, name: 'Mail', fields: [], tags: [], favourite: false };
    const planned = { item, recordId: 'r', input: { kind: 'login' as const, name: 'Mail', fields: [] } };
    const plan: ImportPlan = { format: 'bitwarden-json', read: 3, create: [planned], existing: [planned], deleted: [], unmapped: [{ item: 'Old', what: 'not imported: reasons' }], deletedChecked: true };
    expect(previewLines(plan)).to.deep.equal([
      '3 item(s) read: would create 1 (1 login)',
      '1 already in the vault: left as they are',
      'not imported or not kept (1):',
      '  Old: not imported: reasons',
      'Enter imports them.',
    ]);
  });
});
