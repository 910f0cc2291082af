import { expect } from 'chai';
import fc from 'fast-check';
import { escapeControls, jsonText, terminalSafe } from '../../src/client/terminal-text.js';
import { sanitize, ASCII_GLYPHS } from '../../src/client/tui/kit/text.js';

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

describe('terminal text', () => {
  it('shows control characters instead of letting the terminal act on them', () => {
    expect(escapeControls('a\u001b[31mb\u0007c\u009bd\te\r\nf\ng')).to.equal('a?[31mb?c?d e↵f↵g');
    expect(escapeControls('x\ny', '/')).to.equal('x/y');
    // The TUI keeps its behaviour: its sanitize is this function with its newline glyph.
    expect(sanitize('x\ny\u001b', ASCII_GLYPHS)).to.equal('x/y?');
  });

  it('keeps the line breaks of a block the program laid out, and nothing else', () => {
    expect(terminalSafe('one\u001b]0;t\u0007\ntwo\rthree')).to.equal('one?]0;t?\ntwo↵three');
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (text) => !CONTROL.test(terminalSafe(text).replace(/\n/g, ''))));
  });

  it('writes JSON that parses back exactly and carries no raw control character', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ unit: 'binary' }), (value, text) => {
        for (const input of [value, { text }]) {
          const json = jsonText(input, 2);
          if (CONTROL.test(json.replace(/\n/g, ''))) return false;
          expect(JSON.parse(json)).to.deep.equal(JSON.parse(JSON.stringify(input)));
        }
        return true;
      }),
    );
    expect(jsonText({ a: '\u009b\u2028' })).to.equal('{"a":"\\u009b\\u2028"}');
  });
});
