import { expect } from 'chai';
import { SearchIndex } from '../../src/client/search/index.js';
import type { OpenedRecord } from '../../src/client/sync/record-crypto.js';
import { HELP } from '../../src/client/tui/kit/keys.js';
import { mainLayout, overlayRect, scrollTop, tooSmall } from '../../src/client/tui/kit/layout.js';
import { ASCII_GLYPHS, clip, escapeTags, fit, sanitize, stripTags, textWidth, wrap } from '../../src/client/tui/kit/text.js';
import {
  detailLines,
  emptyListText,
  fieldValue,
  formatUpdated,
  headerText,
  helpLines,
  listLine,
  MESSAGE_ROWS,
  messageLines,
  listModel,
  listTitle,
  MASK,
  statusText,
  type SearchFn,
  type StatusInfo,
} from '../../src/client/tui/kit/view-model.js';

/** What the screen shows, as pure functions: list for a filter, open record, status bar, help. */

const at = (y: number, m: number, d: number, h = 0, min = 0, s = 0) => new Date(y, m - 1, d, h, min, s).getTime();
const NOW = at(2026, 3, 14, 15, 30, 0);

function record(id: string, name: string, fields: Array<[string, string, boolean?]> = [], extra: Partial<OpenedRecord> = {}): OpenedRecord {
  return {
    id,
    kind: 'login',
    name,
    fields: fields.map(([n, value, sensitive]) => ({ name: n, value, sensitive: Boolean(sensitive) })),
    tags: [],
    favourite: false,
    createdAt: at(2026, 1, 2),
    updatedAt: at(2026, 1, 2, 9, 5),
    version: 3,
    sealed: false,
    unreadable: [],
    ...extra,
  };
}

/** The engine's search, over the real in-memory index. */
function searchOver(records: OpenedRecord[]): SearchFn {
  const index = SearchIndex.build(records);
  const byId = new Map(records.map((r) => [r.id, r]));
  return (query, options) => {
    const result = index.search(query, options);
    return { total: result.total, hits: result.hits.map((hit) => ({ ...hit, record: byId.get(hit.id)! })) };
  };
}

const vault = [
  record('00000000-0000-4000-8000-000000000001', 'Bank account', [['user', 'erin'], ['password', 'hunter2', true]]),
  record('00000000-0000-4000-8000-000000000002', 'Mail', [['user', 'erin@example.org']]),
  record('00000000-0000-4000-8000-000000000003', 'Router', [['url', 'http://192.168.0.1']]),
  record('00000000-0000-4000-8000-000000000004', 'Bank account', [['user', 'erin']], { conflictOf: '00000000-0000-4000-8000-000000000001' }),
];

describe('TUI view model', () => {
  describe('the list for a filter', () => {
    it('shows every record by name when the filter is empty', () => {
      const model = listModel(searchOver(vault), '');
      expect(model.rows.map((r) => r.name)).to.deep.equal(['Bank account', 'Bank account', 'Mail', 'Router']);
      expect(model).to.include({ matches: 4, all: 4 });
      expect(listTitle(model)).to.equal('Records (4)');
    });

    it('narrows to records whose name or fields contain the text, any case, names first', () => {
      const model = listModel(searchOver(vault), 'ERIN');
      expect(model.rows.map((r) => r.name)).to.deep.equal(['Bank account', 'Bank account', 'Mail']);
      expect(listTitle(model)).to.equal('Records (3 of 4)');
      const byName = listModel(searchOver(vault), 'r');
      expect(byName.rows[0]!.name).to.equal('Router');
      expect(listModel(searchOver(vault), '168.0').rows.map((r) => r.name)).to.deep.equal(['Router']);
    });

    it('says when nothing matches, and how to get the records back', () => {
      const model = listModel(searchOver(vault), 'zebra');
      expect(model.rows).to.deep.equal([]);
      expect(emptyListText(model)).to.equal('Nothing matches "zebra". Esc clears the filter.');
      expect(emptyListText(listModel(searchOver([]), ''))).to.match(/No records yet/);
    });

    it('caps the rows but counts every match', () => {
      const many = Array.from({ length: 30 }, (_, i) => record(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, `Item ${i}`));
      const model = listModel(searchOver(many), 'item', 10);
      expect(model.rows).to.have.length(10);
      expect(listTitle(model)).to.equal('Records (30 of 30, first 10)');
    });

    it('draws a row in exactly the width, marking conflict copies and sealed names', () => {
      const [plain, copy] = listModel(searchOver(vault), '').rows;
      const line = listLine(plain!, 34, NOW);
      expect(textWidth(line)).to.equal(34);
      expect(line).to.equal(' Bank account    login  2026-01-02');
      expect(listLine(copy!, 34, NOW).startsWith('!')).to.equal(true);
      const sealed = listLine({ ...plain!, sealedName: true }, 34, NOW);
      expect(sealed).to.contain('(sealed)').and.not.contain('Bank');
      const long = listLine({ ...plain!, name: 'A very long record name that cannot fit' }, 34, NOW);
      expect(textWidth(long)).to.equal(34);
      expect(long).to.contain('…');
    });

    it('measures terminal columns: wide CJK and emoji, zero-width marks and joiners, and joined emoji drawn as their parts', () => {
      expect(textWidth('東京')).to.equal(4);
      expect(textWidth('🚀🔑')).to.equal(4);
      expect(textWidth('cafe\u0301')).to.equal(4);
      expect(textWidth('a\u200bb')).to.equal(2);
      expect(sanitize('👨\u200d👩\u200d👧 👍🏽 ❤\ufe0f')).to.equal('👨👩👧 👍 ❤');
      expect(clip('ab🚀cd', 4)).to.equal('ab…');
      expect(fit('🚀', 3)).to.equal('🚀 ');
      const wide = listLine({ id: 'x', name: '🚀東京 bank 🔑🔑🔑🔑', kind: 'login', updatedAt: NOW, sealedName: false, favourite: false }, 34, NOW);
      expect(textWidth(wide)).to.equal(34);
    });

    it('keeps at least 12 columns of the name in a narrow list, dropping the time and then the kind', () => {
      const [plain] = listModel(searchOver(vault), '').rows;
      const row = { ...plain!, name: 'Household insurance' };
      // 50 columns: the list box is 24 wide, 22 inside.
      expect(listLine(row, 22, NOW)).to.equal(' Household ins… login ');
      expect(listLine(row, 12, NOW)).to.equal(' Household …');
      for (const width of [12, 22, 28, 34, 60]) expect(textWidth(listLine(row, width, NOW))).to.equal(width);
    });

    it('shows the time for today and the date before', () => {
      expect(formatUpdated(at(2026, 3, 14, 8, 7), NOW)).to.equal('08:07');
      expect(formatUpdated(at(2026, 3, 13, 8, 7), NOW)).to.equal('2026-03-13');
      expect(formatUpdated(0, NOW)).to.equal('-');
    });
  });

  describe('the open record', () => {
    const bank = vault[0]!;
    const text = (lines: Array<{ text: string }>) => lines.map((l) => stripTags(l.text)).join('\n');

    it('masks sensitive values until revealed', () => {
      const masked = text(detailLines(bank, { revealed: false, width: 42 }));
      expect(masked).to.contain('user      erin');
      expect(masked).to.contain(`password  ${MASK} (sensitive)`);
      expect(masked).to.not.contain('hunter2');
      expect(text(detailLines(bank, { revealed: true, width: 42 }))).to.contain('password  hunter2 (sensitive)');
      expect(fieldValue({ name: 'pin', value: '1234', sensitive: true }, { revealed: false, unreadable: false })).to.equal(MASK);
      expect(fieldValue({ name: 'pin', value: 'kpr1.xyz', sensitive: true }, { revealed: true, unreadable: true })).to.equal('(sealed)');
    });

    it('never shows a sealed value that cannot be opened, and says why', () => {
      const locked = record(bank.id, 'kpr1.sealedname', [['pin', 'kpr1.ciphertext', true]], { unreadable: ['name', 'pin'] });
      const shown = text(detailLines(locked, { revealed: true, width: 42 }));
      expect(shown).to.not.contain('kpr1.');
      expect(shown).to.contain('(sealed name)');
      expect(shown).to.contain('pin   (sealed)');
      expect(shown).to.contain('Sealed, not readable while locked: pin.');
    });

    it('marks a conflict copy with the record it belongs to', () => {
      const shown = text(detailLines(vault[3]!, { revealed: false, width: 42, conflictOfName: 'Bank account' }));
      expect(shown.replace(/\n/g, ' ')).to.contain('Conflict copy of "Bank account" (00000000): it keeps your version');
    });

    it('wraps long values under their field and highlights the chosen field', () => {
      const note = record(bank.id, 'Note', [['text', 'one two three four five six seven eight nine ten']]);
      const lines = detailLines(note, { revealed: false, width: 20, selectedField: 0 });
      const fieldLines = lines.filter((l) => l.field === 0);
      expect(fieldLines.length).to.be.greaterThan(1);
      for (const l of fieldLines) {
        expect(l.text.startsWith('{inverse}')).to.equal(true);
        expect(textWidth(stripTags(l.text))).to.be.at.most(20);
      }
    });

    it('keeps "(sensitive)" when a revealed value fills its last line', () => {
      const long = record(bank.id, 'Key', [['key', 'x'.repeat(68), true]]);
      const lines = detailLines(long, { revealed: true, width: 40 }).filter((l) => l.field === 0).map((l) => stripTags(l.text));
      expect(lines.join('\n')).to.contain('x'.repeat(20));
      expect(lines[lines.length - 1]).to.match(/^ +\(sensitive\)$/);
      for (const l of lines) expect(textWidth(l)).to.be.at.most(40);
      const masked = detailLines(long, { revealed: false, width: 40 }).map((l) => stripTags(l.text));
      expect(masked.some((l) => /^key +\*{8} \(sensitive\)$/.test(l))).to.equal(true);
    });

    it('keeps hostile text from steering the terminal or blessed', () => {
      const evil = record(bank.id, '\u001b[2J{red-fg}boom{/red-fg}', [['x', 'a\u0007b']]);
      const lines = detailLines(evil, { revealed: true, width: 60 });
      expect(lines[0]!.text).to.equal('{bold}?[2J{open}red-fg{close}boom{open}/red-fg{close}{/bold}');
      expect(stripTags(lines[0]!.text)).to.equal('?[2J{red-fg}boom{/red-fg}');
      expect(text(lines)).to.contain('a?b');
    });
  });

  describe('the status bar', () => {
    const base: StatusInfo = { connection: 'online', syncing: false, version: 12, syncedAt: at(2026, 3, 14, 15, 29, 7), pending: 2, lock: 'unlocked' };

    it('says online or offline, the synced version and time, what is waiting and the lock state', () => {
      expect(statusText(base, 80, NOW)).to.equal(fit(' ● online · version 12 · synced 15:29:07 · 2 pending · unlocked', 80));
      expect(statusText({ ...base, connection: 'offline', lock: 'not encrypted' }, 80, NOW)).to.match(/^ ○ offline · version 12 · synced 15:29:07 · 2 pending · not encrypted\s*$/);
      expect(statusText({ ...base, syncing: true }, 80, NOW)).to.contain('online, syncing');
      expect(statusText({ ...base, syncedAt: undefined }, 80, NOW)).to.contain('not synced yet');
      expect(statusText({ ...base, syncedAt: at(2026, 3, 1, 9, 0) }, 80, NOW)).to.contain('synced 2026-03-01 ·');
      expect(statusText({ ...base, lock: 'locked' }, 80, NOW)).to.match(/· locked\s*$/);
    });

    it('fits narrow terminals without losing the facts', () => {
      const narrow = statusText(base, 50, NOW);
      expect(textWidth(narrow)).to.equal(50);
      expect(narrow).to.match(/online v12 15:29:07 2p unlocked/);
      expect(textWidth(statusText(base, 20, NOW))).to.equal(20);
    });

    it('says offline with the local copy\'s version when no sync has worked yet', () => {
      const offline: StatusInfo = { ...base, connection: 'offline', syncedAt: undefined };
      expect(statusText(offline, 120, NOW)).to.match(/^ ○ offline, local copy at version 12 · 2 pending · unlocked\s*$/);
      expect(statusText(offline, 50, NOW)).to.match(/^ ○ offline, local v12 2p unlocked\s*$/);
      expect(statusText({ ...base, connection: 'connecting', syncedAt: undefined }, 80, NOW)).to.contain('version 12 · not synced yet');
    });

    it('wraps a long message over up to three rows and points to m for the rest', () => {
      const sentence = 'offline: cannot reach 127.0.0.1:41234; changes stay here and are pushed when it is back';
      const rows = messageLines(sentence, 50);
      expect(rows).to.deep.equal([' offline: cannot reach 127.0.0.1:41234; changes', ' stay here and are pushed when it is back']);
      expect(messageLines(sentence, 120)).to.deep.equal([` ${sentence}`]);
      const long = messageLines('word '.repeat(60), 50);
      expect(long).to.have.length(MESSAGE_ROWS);
      expect(long[MESSAGE_ROWS - 1]).to.match(/… m shows all$/);
      for (const row of long) expect(textWidth(row)).to.be.at.most(50);
    });

    it('uses plain ASCII on terminals without UTF-8', () => {
      expect(statusText(base, 80, NOW, ASCII_GLYPHS)).to.match(/^ \* online \| version 12 \|/);
    });

    it('puts the user and server left and the help key right in the header', () => {
      const header = headerText('erin @ 127.0.0.1:7070', 80);
      expect(header).to.have.length(80);
      expect(header).to.match(/^ Keeper · erin @ 127.0.0.1:7070 +\? help {2}q quit $/);
    });
  });

  describe('help', () => {
    it('lists every key of every screen, in two columns at 80 wide', () => {
      const lines = helpLines(76).map(stripTags);
      const all = lines.join('\n');
      for (const section of HELP) {
        expect(all).to.contain(section.title);
        for (const [keys, what] of section.keys) expect(all).to.contain(`${keys.padEnd(14)}${what}`);
      }
      for (const l of lines) expect(textWidth(l)).to.be.at.most(76);
      expect(lines.length).to.be.lessThan(helpLines(60).length);
    });
  });

  it('aligns the second help column, with two spaces at least after every row of the first', () => {
    for (const width of [76, 78]) {
      const lines = helpLines(width).map(stripTags);
      const start = lines[0]!.search(/ {2}\S/) + 2;
      expect(start, lines[0]).to.be.greaterThan(30);
      for (const l of lines) {
        expect(textWidth(l)).to.be.at.most(width);
        if (l.length > start) expect(l.slice(start - 2, start + 1), l).to.match(/^ {2}\S$/);
      }
    }
  });

  describe('layout and text', () => {
    it('fills an 80x24 terminal: header, filter over list beside the record, message and status lines', () => {
      const layout = mainLayout(80, 24);
      expect(layout.header).to.deep.equal({ top: 0, left: 0, width: 80, height: 1 });
      expect(layout.filter).to.deep.equal({ top: 1, left: 0, width: 36, height: 3 });
      expect(layout.list).to.deep.equal({ top: 4, left: 0, width: 36, height: 18 });
      expect(layout.detail).to.deep.equal({ top: 1, left: 36, width: 44, height: 21 });
      expect(layout.message.top).to.equal(22);
      expect(layout.status.top).to.equal(23);
      expect(tooSmall(80, 24)).to.equal(false);
      expect(tooSmall(40, 24)).to.equal(true);
      const box = overlayRect(80, 24, { width: 200, height: 200 });
      expect(box.width).to.equal(78);
      expect(box.top + box.height).to.be.at.most(22);
    });

    it('scrolls as little as needed to keep the selection in view', () => {
      expect(scrollTop(100, 0, 10)).to.equal(0);
      expect(scrollTop(100, 15, 10, 0)).to.equal(6);
      expect(scrollTop(100, 8, 10, 6)).to.equal(6);
      expect(scrollTop(100, 3, 10, 6)).to.equal(3);
      expect(scrollTop(5, 4, 10, 3)).to.equal(0);
    });

    it('measures, clips, wraps and escapes text by terminal columns', () => {
      expect(textWidth('漢字 x')).to.equal(6);
      expect(textWidth('e\u0301')).to.equal(1);
      expect(clip('漢字漢字', 5)).to.equal('漢字…');
      expect(fit('abc', 5)).to.equal('abc  ');
      expect(wrap('one two three', 7)).to.deep.equal(['one two', 'three']);
      expect(wrap('abcdefghij', 4)).to.deep.equal(['abcd', 'efgh', 'ij']);
      expect(wrap('a\nb', 4)).to.deep.equal(['a', 'b']);
      expect(sanitize('a\tb\nc\u001b')).to.equal('a b↵c?');
      expect(escapeTags('{bold}')).to.equal('{open}bold{close}');
      expect(stripTags('{inverse}{open}x{close}{/inverse}')).to.equal('{x}');
    });
  });
});
