import { expect } from 'chai';
import { Clipboard, OSC52_CLEAR, osc52 } from '../../src/client/tui/clipboard.js';

/** The clipboard through the terminal (OSC 52), for SSH sessions with no clipboard tool: copy, then blank after the delay. */
describe('TUI clipboard over OSC 52', () => {
  it('writes the value base64-encoded in one OSC 52 sequence', () => {
    expect(osc52('hunter2 é')).to.equal(`\u001b]52;c;${Buffer.from('hunter2 é').toString('base64')}\u0007`);
    expect(OSC52_CLEAR).to.equal('\u001b]52;c;IA==\u0007');
  });

  it('is used when no tool exists, and blanks the clipboard after the delay, once', async () => {
    const written: string[] = [];
    const clipboard = new Clipboard(undefined, 60, (data) => written.push(data));
    expect(clipboard.available).to.equal(true);
    expect(clipboard.way).to.equal('terminal');
    await clipboard.copy('s3cret');
    expect(written).to.deep.equal([osc52('s3cret')]);
    expect(clipboard.armed).to.equal(true);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(written).to.deep.equal([osc52('s3cret'), OSC52_CLEAR]);
    expect(clipboard.armed).to.equal(false);
    // Quitting with nothing on the clipboard writes nothing more.
    await clipboard.clear();
    expect(written).to.have.length(2);
  });

  it('blanks at once when the TUI quits before the delay', async () => {
    const written: string[] = [];
    const clipboard = new Clipboard(undefined, 30_000, (data) => written.push(data));
    await clipboard.copy('s3cret');
    await clipboard.clear();
    expect(written).to.deep.equal([osc52('s3cret'), OSC52_CLEAR]);
  });

  it('is not available with neither a tool nor a terminal', async () => {
    const clipboard = new Clipboard(undefined);
    expect(clipboard.available).to.equal(false);
    let failed: unknown;
    await clipboard.copy('x').catch((error: unknown) => (failed = error));
    expect(String(failed)).to.match(/no clipboard tool was found/);
  });
});
