import { expect } from 'chai';
import { SearchIndex, foldCase, type SearchIndexOptions, type SearchResult, type SearchableRecord } from '../../src/client/search/index.js';
import { seededRandom } from '../../src/lib/seeded-random.js';

/** The in-memory search: folding, ranking, limits, incremental changes, and exactness against a brute force. */

interface Rec {
  id: string;
  name: string;
  fields: Array<{ name: string; value?: string | null }>;
}

function rec(id: string, name: string, fields: Record<string, string> = {}): Rec {
  return { id, name, fields: Object.entries(fields).map(([fieldName, value]) => ({ name: fieldName, value })) };
}

function ids(result: SearchResult): string[] {
  return result.hits.map((hit) => hit.id);
}

/** Folded parts of a record object (records are never mutated in these tests). */
const foldedParts = new WeakMap<SearchableRecord, { key: string; fields: Array<{ name: string; folded: string; value: string }> }>();

function folded(r: SearchableRecord) {
  let parts = foldedParts.get(r);
  if (parts === undefined) {
    parts = { key: foldCase(r.name), fields: (r.fields ?? []).map((f) => ({ name: f.name, folded: foldCase(f.name), value: foldCase(f.value ?? '') })) };
    foldedParts.set(r, parts);
  }
  return parts;
}

/** The specification, literally: fold every part on its own, test every record, sort. */
function reference(records: Iterable<SearchableRecord>, query: string, limit = Infinity): SearchResult {
  const q = foldCase(query);
  const found: Array<{ rank: number; key: string; name: string; id: string; field?: string }> = [];
  for (const r of records) {
    const { key, fields } = folded(r);
    let rank = -1;
    let field: string | undefined;
    if (q === '' || key.startsWith(q)) rank = 0;
    else if (key.includes(q)) rank = 1;
    else {
      const hit = fields.find((f) => f.folded.includes(q) || f.value.includes(q));
      if (hit) {
        rank = 2;
        field = hit.name;
      }
    }
    if (rank >= 0) found.push({ rank, key, name: r.name, id: r.id, ...(field === undefined ? {} : { field }) });
  }
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  found.sort((a, b) => a.rank - b.rank || cmp(a.key, b.key) || cmp(a.name, b.name) || cmp(a.id, b.id));
  return {
    total: found.length,
    hits: found.slice(0, limit).map((f) => (f.rank < 2 ? { id: f.id, matched: 'name' as const } : { id: f.id, matched: 'field' as const, field: f.field! })),
  };
}


describe('search', () => {
  describe('foldCase', () => {
    it('lower-cases ASCII and leaves the rest of ASCII alone', () => {
      expect(foldCase('HeLLo, World! @123 ~')).to.equal('hello, world! @123 ~');
    });

    it('folds beyond toLowerCase, locale-independently', () => {
      expect(foldCase('Straße')).to.equal(foldCase('STRASSE'));
      expect(foldCase('ΟΔΟΣ')).to.equal('οδοσ'); // final sigma folds to σ
      expect(foldCase('οδος')).to.equal('οδοσ');
      expect(foldCase('ﬁle')).to.equal('file');
      expect(foldCase('\u212a')).to.equal('k'); // Kelvin sign
      expect(foldCase('ſ')).to.equal('s');
      expect(foldCase('İ')).to.equal('i\u0307'); // never the Turkish locale's rule
      expect(foldCase('I')).to.equal('i');
    });

    it('composes canonically and keeps U+0000 out of folded text', () => {
      expect(foldCase('Cafe\u0301')).to.equal('café');
      expect(foldCase('a\u0000b')).to.equal('a\ufffdb');
    });
  });

  describe('matching', () => {
    it('finds any substring, case-insensitively, in names, field names and values', () => {
      const index = SearchIndex.build([
        rec('1', 'GitHub', { username: 'octo.Cat', password: 'Hunter2!' }),
        rec('2', 'Bank', { 'Security Question': 'first pet?', pin: '0042' }),
      ]);
      expect(ids(index.search('HUB'))).to.deep.equal(['1']);
      expect(ids(index.search('o.c'))).to.deep.equal(['1']);
      expect(ids(index.search('er2!'))).to.deep.equal(['1']);
      expect(ids(index.search('ity qu'))).to.deep.equal(['2']);
      expect(ids(index.search('t pet?'))).to.deep.equal(['2']);
      expect(ids(index.search('00'))).to.deep.equal(['2']);
      expect(ids(index.search(' '))).to.deep.equal(['2']);
      expect(index.search('nope').total).to.equal(0);
    });

    it('never matches across parts', () => {
      const index = SearchIndex.build([rec('1', 'ab', { cd: 'ef', gh: '' })], { indexThreshold: 0 });
      for (const query of ['bc', 'abc', 'de', 'cde', 'fg', 'efg', 'ef\u0000gh', 'ab\u0000cd']) expect(index.search(query).total, query).to.equal(0);
      expect(index.search('\u0000').total).to.equal(0);
    });

    it('folds queries and text alike', () => {
      const index = SearchIndex.build([rec('1', 'Straße 5'), rec('2', 'ΟΔΟΣ'), rec('3', 'Café', { note: 'e\u0301' })]);
      expect(ids(index.search('STRASSE'))).to.deep.equal(['1']);
      expect(ids(index.search('strasse'))).to.deep.equal(['1']);
      expect(ids(index.search('οδος'))).to.deep.equal(['2']);
      expect(ids(index.search('CAFÉ'))).to.deep.equal(['3']);
      expect(ids(index.search('é'))).to.deep.equal(['3']);
    });

    it('accepts sealed (empty, null or missing) values and records without fields', () => {
      const index = SearchIndex.build([
        { id: '1', name: 'one', fields: [{ name: 'secret', value: null }, { name: 'pin' }] },
        { id: '2', name: 'two' },
      ]);
      expect(index.search('secret').hits).to.deep.equal([{ id: '1', matched: 'field', field: 'secret' }]);
      expect(ids(index.search('tw'))).to.deep.equal(['2']);
      expect(index.search('null').total).to.equal(0);
    });
  });

  describe('ranking', () => {
    const records = [
      rec('f2', 'Zeta', { notes: 'my bank account' }),
      rec('c1', 'My Bank'),
      rec('f1', 'Alpha', { 'Bank code': '1234', notes: 'bank' }),
      rec('p2', 'bank of nowhere'),
      rec('p1', 'Bank of America', { notes: 'bank' }),
      rec('c2', 'Piggy BANK'),
    ];

    it('puts names starting with the query first, then names containing it, then fields, each by name', () => {
      for (const options of [{}, { indexThreshold: 0 }] satisfies SearchIndexOptions[]) {
        const result = SearchIndex.build(records, options).search('bank');
        expect(result.total).to.equal(6);
        expect(result.hits).to.deep.equal([
          { id: 'p1', matched: 'name' },
          { id: 'p2', matched: 'name' },
          { id: 'c1', matched: 'name' },
          { id: 'c2', matched: 'name' },
          { id: 'f1', matched: 'field', field: 'Bank code' },
          { id: 'f2', matched: 'field', field: 'notes' },
        ]);
      }
    });

    it('breaks ties by folded name, then original name, then id', () => {
      const index = SearchIndex.build([rec('b', 'bank'), rec('x', 'BANK'), rec('a', 'bank'), rec('y', 'Bank'), rec('z', 'bank 2')]);
      expect(ids(index.search('bank'))).to.deep.equal(['x', 'y', 'a', 'b', 'z']);
      expect(ids(index.search(''))).to.deep.equal(['x', 'y', 'a', 'b', 'z']);
    });

    it('reports the first matching field, its name before its value', () => {
      const index = SearchIndex.build([rec('1', 'r', { url: 'https://mail.example', email: 'me@mail.example', 'mail server': 'imap' })]);
      expect(index.search('mail').hits).to.deep.equal([{ id: '1', matched: 'field', field: 'url' }]);
      expect(index.search('me@').hits).to.deep.equal([{ id: '1', matched: 'field', field: 'email' }]);
      expect(index.search('server').hits).to.deep.equal([{ id: '1', matched: 'field', field: 'mail server' }]);
    });
  });

  describe('empty query and limit', () => {
    const records = Array.from({ length: 30 }, (_, i) => rec(`id-${i}`, `Name ${String(29 - i).padStart(2, '0')}`, { f: `v${i}` }));

    it('returns every record in name order for the empty query', () => {
      const result = SearchIndex.build(records).search('');
      expect(result.total).to.equal(30);
      expect(result.hits.map((hit) => hit.id)).to.deep.equal(records.map((r) => r.id).reverse());
      expect(result.hits.every((hit) => hit.matched === 'name')).to.equal(true);
    });

    it('caps the hits, never the total', () => {
      const index = SearchIndex.build(records);
      expect(index.search('', { limit: 5 })).to.deep.equal({ total: 30, hits: reference(records, '', 5).hits });
      expect(index.search('name', { limit: 0 })).to.deep.equal({ total: 30, hits: [] });
      expect(index.search('v1', { limit: 3 }).total).to.equal(11);
      expect(index.search('v1', { limit: Infinity }).hits).to.have.length(11);
    });

    it('rejects a limit that is not a non-negative integer', () => {
      const index = SearchIndex.build(records);
      for (const limit of [-1, 1.5, NaN]) expect(() => index.search('a', { limit })).to.throw(RangeError);
    });
  });

  describe('incremental changes', () => {
    for (const [label, options] of [
      ['scanned base', {}],
      ['indexed base', { indexThreshold: 0 }],
    ] as const) {
      it(`never returns removed or stale records (${label})`, () => {
        const index = SearchIndex.build([rec('1', 'Old name', { user: 'alice' }), rec('2', 'Other', { user: 'bob' })], options);
        index.upsert(rec('1', 'New name', { user: 'carol' }));
        expect(index.search('old').total).to.equal(0);
        expect(index.search('alice').total).to.equal(0);
        expect(ids(index.search('new'))).to.deep.equal(['1']);
        expect(index.search('carol').hits).to.deep.equal([{ id: '1', matched: 'field', field: 'user' }]);
        expect(ids(index.search('name'))).to.deep.equal(['1']);

        expect(index.remove('2')).to.equal(true);
        expect(index.remove('2')).to.equal(false);
        expect(index.remove('unknown')).to.equal(false);
        expect(index.search('bob').total).to.equal(0);
        expect(index.search('').total).to.equal(1);
        expect(index.size).to.equal(1);

        index.upsert(rec('3', 'Alpha'));
        index.upsert(rec('2', 'Back again', { user: 'bob' }));
        expect(ids(index.search(''))).to.deep.equal(['3', '2', '1']);
        expect(index.remove('1')).to.equal(true);
        expect(index.search('carol').total).to.equal(0);

        index.compact();
        expect(index.stats()).to.include({ overlay: 0, tombstones: 0, records: 2 });
        expect(ids(index.search(''))).to.deep.equal(['3', '2']);
        expect(ids(index.search('bob'))).to.deep.equal(['2']);
        expect(index.search('carol').total).to.equal(0);
      });
    }

    it('treats an unchanged upsert as a no-op', () => {
      const index = SearchIndex.build([rec('1', 'Same', { a: 'b' })]);
      index.upsert(rec('1', 'Same', { a: 'b' }));
      expect(index.stats()).to.include({ overlay: 0, tombstones: 0 });
      index.upsert(rec('1', 'Same', { a: 'c' }));
      expect(index.stats()).to.include({ overlay: 1, tombstones: 1 });
    });

    it('keeps the last of duplicate ids in a bulk load', () => {
      const index = SearchIndex.build([rec('1', 'first'), rec('1', 'second')]);
      expect(index.size).to.equal(1);
      expect(index.search('first').total).to.equal(0);
      expect(ids(index.search('second'))).to.deep.equal(['1']);
    });

    it('rebuilds lazily once the overlay outgrows its limit', () => {
      const index = SearchIndex.build([rec('1', 'one')], { indexThreshold: 0, overlayLimit: 2 });
      index.upsert(rec('2', 'two'));
      index.upsert(rec('3', 'three'));
      expect(index.search('t').total).to.equal(2);
      expect(index.stats().overlay).to.equal(2);
      index.upsert(rec('4', 'four'));
      expect(index.stats().overlay).to.equal(3);
      expect(ids(index.search('o'))).to.deep.equal(['1', '4', '2']);
      expect(index.stats()).to.include({ overlay: 0, baseRecords: 4, indexed: true });
    });
  });

  describe('exactness against a brute force (seeded, randomized)', function () {
    this.timeout(60_000);
    // Small alphabet so that queries match often and ties are common; folding traps included.
    const ALPHABET = ['a', 'b', 'c', 'A', 'B', 'ab', 'ß', 'SS', 's', 'Σ', 'σ', 'ς', 'İ', 'i', 'é', 'e\u0301', 'E', '😀', ' ', '.', '@', '-', '1', '\u0000', 'ﬁ', '\u212a', 'k', '東', 'ž'];

    function text(random: () => number, max: number): string {
      let out = '';
      const length = Math.floor(random() * (max + 1));
      for (let i = 0; i < length; i++) out += ALPHABET[Math.floor(random() * ALPHABET.length)];
      if (random() < 0.1) out = out.repeat(2 + Math.floor(random() * 3));
      return out;
    }

    function randomRecord(random: () => number, id: string): Rec {
      const fieldCount = Math.floor(random() * 5);
      const fields = Array.from({ length: fieldCount }, (_, i) => ({
        name: random() < 0.3 ? `f${i}` : text(random, 6) || `f${i}`,
        value: random() < 0.1 ? null : text(random, 14),
      }));
      return { id, name: text(random, 10), fields };
    }

    function randomQuery(random: () => number, live: Rec[]): string {
      const roll = random();
      if (roll < 0.1 || live.length === 0) return text(random, 4);
      const r = live[Math.floor(random() * live.length)]!;
      const parts = [r.name, ...r.fields.flatMap((f) => [f.name, f.value ?? ''])];
      const part = parts[Math.floor(random() * parts.length)]!;
      const length = 1 + Math.floor(random() * 10);
      const start = Math.floor(random() * Math.max(1, part.length - length + 1));
      let query = part.slice(start, start + length);
      if (random() < 0.3) query = query.toUpperCase();
      return query || 'a';
    }

    const configs: Array<[string, SearchIndexOptions]> = [
      ['default (scanned below 2,048 records)', {}],
      ['indexed', { indexThreshold: 0 }],
      ['indexed, 4 hashed keys (collisions everywhere)', { indexThreshold: 0, hashBits: 2 }],
      ['indexed, rebuilt every few changes', { indexThreshold: 0, overlayLimit: 3 }],
      ['indexed, never rebuilt', { indexThreshold: 0, overlayLimit: 1e9 }],
    ];

    for (const [label, options] of configs) {
      for (const seed of [1, 2, 3]) {
        it(`${label}, seed ${seed}`, () => {
          const random = seededRandom(seed * 7919 + label.length);
          const live = new Map<string, Rec>();
          let nextId = 0;
          const initial = Array.from({ length: 300 }, () => randomRecord(random, `r${nextId++}`));
          for (const r of initial) live.set(r.id, r);
          const index = SearchIndex.build(initial, options);
          let checked = 0;
          for (let round = 0; round < 40; round++) {
            // A burst of changes, one at a time.
            for (let op = Math.floor(random() * 12); op > 0; op--) {
              const roll = random();
              const existing = [...live.keys()];
              if (roll < 0.35 || existing.length === 0) {
                const r = randomRecord(random, random() < 0.2 && nextId > 0 ? `r${Math.floor(random() * nextId)}` : `r${nextId++}`);
                live.set(r.id, r);
                index.upsert(r);
              } else if (roll < 0.7) {
                const id = existing[Math.floor(random() * existing.length)]!;
                const old = live.get(id)!;
                const r = random() < 0.5 ? { ...randomRecord(random, id), name: old.name } : randomRecord(random, id);
                live.set(id, r);
                index.upsert(r);
              } else {
                const id = random() < 0.9 && existing.length > 0 ? existing[Math.floor(random() * existing.length)]! : `missing-${round}`;
                expect(index.remove(id)).to.equal(live.delete(id));
              }
            }
            expect(index.size).to.equal(live.size);
            const records = [...live.values()];
            for (let q = 0; q < 25; q++) {
              const query = randomQuery(random, records);
              const limit = [undefined, 0, 1, 3, 10][Math.floor(random() * 5)];
              const expected = reference(records, query, limit);
              const actual = index.search(query, limit === undefined ? {} : { limit });
              expect(actual, `query ${JSON.stringify(query)} limit ${limit}`).to.deep.equal(expected);
              checked++;
            }
          }
          expect(checked).to.equal(1000);
          if (options.indexThreshold === 0) expect(index.stats().indexed).to.equal(true);
        });
      }
    }

    it('agrees on larger ASCII data where the proof by positions kicks in', () => {
      const random = seededRandom(42);
      const words = ['alpha', 'beta', 'gamma', 'delta', 'alphabet', 'bet', 'amma', 'https://', 'www.', '.com', '@mail'];
      const phrase = (n: number) => Array.from({ length: n }, () => words[Math.floor(random() * words.length)]).join(random() < 0.5 ? ' ' : '');
      const records: Rec[] = Array.from({ length: 3000 }, (_, i) => rec(`id${i}`, phrase(2), { a: phrase(3), b: phrase(4), 'alpha beta': phrase(1) }));
      const index = SearchIndex.build(records);
      expect(index.stats().indexed).to.equal(true);
      for (let q = 0; q < 300; q++) {
        const query = randomQuery(random, records);
        expect(index.search(query, { limit: 20 }), query).to.deep.equal(reference(records, query, 20));
      }
    });
  });
});
