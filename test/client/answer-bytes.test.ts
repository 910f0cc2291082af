import { expect } from 'chai';
import { AnswerBytes, EntryBlock, jsonPiece } from '../../src/client/agent/http/answer-bytes.js';

type Item = { id: string; name: string };

const entry = (item: Item) => JSON.stringify(item);
const items = (list: Item[]) => list.map((item) => ({ key: item.id, source: item }));

describe('agent answers as bytes', () => {
  it('writes strings as UTF-8 and byte ranges as they are, to the exact length', () => {
    const block = Buffer.from('[1,2,3]');
    const answer = new AnswerBytes().text('{"ä":').bytes(block, 1, 2).bytes(block, 2, 4).text('"ß€"}');
    const out = answer.toBuffer();
    expect(out.length).to.equal(answer.length);
    expect(out.toString('utf8')).to.equal('{"ä":1,2"ß€"}');
  });

  it('copies short and long ranges alike, whole blocks and ranges at an offset', () => {
    const long = Buffer.from(`"${'x'.repeat(100)}é${'y'.repeat(40)}"`);
    const start = 3;
    const end = long.length - 5;
    const answer = new AnswerBytes().bytes(jsonPiece('[')).bytes(long).bytes(jsonPiece(',')).bytes(long, 0, 1).bytes(long, start, end).bytes(long, long.length - 1).text(']');
    const out = answer.toBuffer();
    expect(out.length).to.equal(answer.length);
    expect(JSON.parse(out.toString('utf8'))).to.deep.equal([long.toString('utf8').slice(1, -1), long.subarray(start, end).toString('utf8')]);
  });

  it('joins array elements with commas, from the block when neighbours lie side by side and written otherwise', () => {
    const a = { id: 'a', name: 'Alpha' };
    const b = { id: 'b', name: 'Beta "quoted"' };
    const c = { id: 'c', name: 'Gamma' };
    const block = EntryBlock.build(items([a, b, c]), entry);
    for (const order of [['a', 'b', 'c'], ['c', 'a'], ['b'], ['a', 'c', 'b'], []]) {
      const answer = new AnswerBytes().bytes(jsonPiece('['));
      order.forEach((id, index) => expect(block.element(id, answer, index === 0)).to.equal(true));
      const byId: Record<string, Item> = { a, b, c };
      expect(JSON.parse(answer.text(']').toBuffer().toString('utf8'))).to.deep.equal(order.map((id) => byId[id]));
    }
    expect(block.element('nope', new AnswerBytes(), true)).to.equal(false);
    expect(block.slotOf('nope')).to.equal(undefined);
  });

  it('copies the entries of unchanged items into the next block and writes only the changed ones', () => {
    const a = { id: 'a', name: 'Alpha' };
    const b = { id: 'b', name: 'Beta' };
    const c = { id: 'c', name: 'Gamma' };
    const first = EntryBlock.build(items([a, b, c]), entry);
    const b2 = { id: 'b', name: 'Beta, renamed' };
    const d = { id: 'd', name: 'Delta' };
    const written: string[] = [];
    const next = EntryBlock.build(items([a, b2, d, c]), (item) => (written.push(item.id), entry(item)), first);
    expect(written).to.deep.equal(['b', 'd']);
    const answer = new AnswerBytes().bytes(jsonPiece('['));
    ['a', 'b', 'c', 'd'].forEach((id, index) => next.element(id, answer, index === 0));
    expect(JSON.parse(answer.text(']').toBuffer().toString('utf8'))).to.deep.equal([a, b2, c, d]);
    // A slot's entry alone, without its comma.
    const one = new AnswerBytes();
    next.copySlot(next.slotOf('c')!, one);
    expect(JSON.parse(one.toBuffer().toString('utf8'))).to.deep.equal(c);
  });
});
