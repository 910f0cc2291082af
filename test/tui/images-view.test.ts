import { expect } from 'chai';
import type { ImageState } from '../../src/domain/images.js';
import type { OpenedRecord } from '../../src/client/sync/record-crypto.js';
import { key } from '../../src/client/tui/kit/keys.js';
import { findOpener } from '../../src/client/tui/opener.js';
import {
  attachForm,
  attachKey,
  attachLines,
  attachOutcome,
  imageMenuKey,
  imageMenuLines,
  openablePath,
  unavailable,
  type AttachState,
} from '../../src/client/tui/screens/images.js';
import { ASCII_GLYPHS, stripTags, textWidth } from '../../src/client/tui/kit/text.js';
import { detailLines, imageFacts, imageLines, imageRow, type ImageRow } from '../../src/client/tui/kit/view-model.js';
import { formatBytes } from '../../src/domain/byte-sizes.js';

/** The images of the open record as the TUI shows them, and the image prompt and menu, as pure functions. */

const RECORD_ID = '00000000-0000-4000-8000-000000000001';
const info = (width: number, height: number, size: number, type = 'image/jpeg') => ({ address: 'a'.repeat(64), type, width, height, size });

function image(id: string, extra: Partial<ImageState> = {}): ImageState {
  return {
    id,
    recordId: RECORD_ID,
    fileName: 'passport.jpg',
    original: info(1600, 1200, 1_258_291),
    encrypted: false,
    status: 'processing',
    createdAt: 0,
    version: 5,
    detachedAt: null,
    ...extra,
  };
}

const ready = image('11111111-0000-4000-8000-000000000001', { status: 'ready', cover: info(120, 120, 4000), compact: info(1600, 1200, 300_000) });
const processing = image('22222222-0000-4000-8000-000000000002', { fileName: 'scan.png', original: info(640, 480, 34_500, 'image/png') });
const failed = image('33333333-0000-4000-8000-000000000003', { fileName: 'broken.jpg', status: 'failed', failure: 'the image cannot be decoded' });
const sealed = image('44444444-0000-4000-8000-000000000004', { encrypted: true, status: 'ready', original: info(0, 0, 90_000, 'application/octet-stream'), cover: info(120, 120, 5000) });

const text = (lines: Array<{ text: string }>) => lines.map((l) => stripTags(l.text)).join('\n');

function record(): OpenedRecord {
  return { id: RECORD_ID, kind: 'note', name: 'Passport', fields: [{ name: 'number', value: 'X123', sensitive: false }], tags: [], favourite: false, createdAt: 0, updatedAt: 0, version: 3, sealed: false, unreadable: [] };
}

describe('TUI images', () => {
  describe('the rows of the detail pane', () => {
    it('takes name, size, pixels, status and the renditions that can be saved from the image', () => {
      const row = imageRow(ready, 'passport.jpg', { original: '/home/erin/.keeper/images/11111111/passport.jpg' });
      expect(row).to.deep.include({ id: ready.id, name: 'passport.jpg', size: 1_258_291, width: 1600, height: 1200, status: 'ready', sealed: false });
      expect(row.renditions).to.deep.equal(['original', 'cover', 'compact']);
      expect(imageRow(processing, 'scan.png', {}).renditions).to.deep.equal(['original']);
      expect(imageRow(sealed, 'secret.jpg', {}).renditions).to.deep.equal(['original', 'cover']);
    });

    it('says size, pixels and status on one line; a failure with its reason; a sealed image without pixels', () => {
      expect(formatBytes(512)).to.equal('512 B');
      expect(formatBytes(34_500)).to.equal('34.5 KB');
      expect(formatBytes(1_258_291)).to.equal('1.3 MB');
      expect(imageFacts(imageRow(ready, 'passport.jpg', {}))).to.equal('1.3 MB · 1600x1200 · ready');
      expect(imageFacts(imageRow(processing, 'scan.png', {}))).to.equal('34.5 KB · 640x480 · processing');
      expect(imageFacts(imageRow(failed, 'broken.jpg', {}))).to.equal('1.3 MB · 1600x1200 · failed: the image cannot be decoded');
      expect(imageFacts(imageRow(sealed, 'secret.jpg', {}))).to.equal('90.0 KB · sealed · ready');
      expect(imageFacts(imageRow(ready, 'passport.jpg', {}), ASCII_GLYPHS)).to.equal('1.3 MB | 1600x1200 | ready');
    });

    it('lists every image with its facts and the whole path of each rendition saved here, within the width', () => {
      const path = '/tmp/keeper-tui-abcdef/erin/images/11111111/passport.jpg';
      const rows: ImageRow[] = [imageRow(ready, 'passport.jpg', { original: path, cover: '/tmp/c.jpg' }), imageRow(processing, 'scan.png', {})];
      const lines = imageLines(rows, { width: 42 });
      const shown = lines.map((l) => stripTags(l.text));
      expect(shown[0]).to.equal('Images (2)');
      expect(shown).to.include(' passport.jpg'.padEnd(42));
      expect(shown).to.include('  1.3 MB · 1600x1200 · ready');
      expect(shown).to.include('  original saved at');
      expect(shown).to.include('  cover saved at');
      expect(shown).to.include('  34.5 KB · 640x480 · processing');
      // The path is cut where the width runs out and nothing is lost: its pieces join up again.
      const start = shown.indexOf('  original saved at') + 1;
      const pieces = shown.slice(start, shown.indexOf('  cover saved at')).map((l) => l.replace(/^ {4}/, ''));
      expect(pieces.length).to.be.greaterThan(1);
      expect(pieces.join('')).to.equal(path);
      for (const l of shown) expect(textWidth(l)).to.be.at.most(42);
      // Every line after the title belongs to its image, so the pane can scroll to the chosen one.
      expect(lines.slice(1).every((l) => l.image === 0 || l.image === 1)).to.equal(true);
      expect(lines.filter((l) => l.image === 1)).to.have.length(2);
    });

    it('highlights the chosen image, colours processing and failed ones, and says when there are none', () => {
      const rows = [imageRow(ready, 'passport.jpg', {}), imageRow(failed, 'broken.jpg', {})];
      const lines = imageLines(rows, { width: 30, selected: 1 });
      const chosen = lines.find((l) => l.image === 1)!;
      expect(chosen.text).to.equal(`{inverse}${'>broken.jpg'.padEnd(30)}{/inverse}`);
      expect(lines.find((l) => l.image === 1 && l.text.includes('failed'))!.text).to.match(/^\{red-fg\}/);
      expect(imageLines([imageRow(processing, 'scan.png', {})], { width: 40 })[2]!.text).to.match(/^\{yellow-fg\}/);
      expect(text(imageLines([], { width: 40 }))).to.equal('No images. a attaches one.');
    });

    it('keeps hostile file names and failure reasons from steering the terminal or blessed', () => {
      const evil = imageRow({ ...failed, failure: 'bad {red-fg}\u001b[2J' }, '{bold}x\u0007.jpg', { original: '/tmp/{x}' });
      const lines = imageLines([evil], { width: 60 });
      const all = lines.map((l) => l.text).join('\n');
      expect(all).to.not.contain('\u001b').and.not.contain('\u0007');
      expect(all).to.contain('{open}bold{close}x?.jpg');
      expect(all).to.contain('{open}red-fg{close}?[2J');
      expect(text(lines)).to.contain('/tmp/{x}');
    });

    it('puts the images under the fields of the open record, and none in views that leave them out', () => {
      const withImages = text(detailLines(record(), { revealed: false, width: 42, images: [imageRow(ready, 'passport.jpg', {})] }));
      expect(withImages).to.match(/number +X123\n\nImages \(1\)\n passport\.jpg/);
      expect(text(detailLines(record(), { revealed: false, width: 42, images: [] }))).to.contain('No images. a attaches one.');
      expect(text(detailLines(record(), { revealed: false, width: 42 }))).to.not.contain('images');
    });
  });

  describe('the attach prompt', () => {
    const typed = (state: AttachState, ...keys: string[]) => {
      let current = state;
      for (const k of keys) for (const press of k.length > 1 && !['tab', 'enter', 'escape', 'backspace'].includes(k) ? Array.from(k) : [k]) current = attachKey(current, key(press)).state;
      return current;
    };

    it('takes a path and an optional name, Tab moving between them, and attaches on Enter from either', () => {
      const form = typed(attachForm(RECORD_ID, 'Passport'), '/tmp/a.png', 'tab', 'front.png');
      expect(form.path.text).to.equal('/tmp/a.png');
      expect(form.name.text).to.equal('front.png');
      expect(attachKey(form, key('enter')).action).to.equal('submit');
      expect(attachKey(typed(form, 'tab'), key('enter')).action).to.equal('submit');
      expect(attachKey(form, key('escape')).action).to.equal('cancel');
      expect(attachOutcome(form)).to.deep.equal({ ok: true, path: '/tmp/a.png', fileName: 'front.png' });
      expect(attachOutcome(typed(attachForm(RECORD_ID, 'P'), ' /tmp/b.jpg '))).to.deep.equal({ ok: true, path: '/tmp/b.jpg' });
    });

    it('reads ~ as the home directory and refuses an empty path or a name with a slash', () => {
      expect(attachOutcome(typed(attachForm(RECORD_ID, 'P'), '~/Pictures/a.jpg'), '/home/erin')).to.deep.equal({ ok: true, path: '/home/erin/Pictures/a.jpg' });
      expect(attachOutcome(attachForm(RECORD_ID, 'P'))).to.deep.include({ ok: false, row: 0 });
      const slash = attachOutcome(typed(attachForm(RECORD_ID, 'P'), '/tmp/a.jpg', 'tab', 'x/y.jpg'));
      expect(slash).to.deep.include({ ok: false, row: 1 });
    });

    it('shows the boxes, then the progress while busy, or the last error in full', () => {
      const form = typed(attachForm(RECORD_ID, 'Passport'), '/tmp/notes.txt');
      const idle = attachLines(form, 60, { busy: false }).map(stripTags);
      expect(idle.join('\n')).to.match(/>Path +\/tmp\/notes\.txt/);
      expect(idle.join('\n')).to.contain('Enter: attach');
      const busy = attachLines(form, 60, { busy: true, progress: 'uploading "notes.txt"... 40%' }).map(stripTags).join('\n');
      expect(busy).to.contain('uploading "notes.txt"... 40%');
      expect(busy).to.contain('Esc: close (the upload goes on)');
      const error = 'not attached: the server refused the input: the file is not an image Keeper takes (JPEG, PNG, WebP, GIF, AVIF, HEIF or TIFF)';
      const failed = attachLines(form, 60, { busy: false, error });
      expect(failed.map(stripTags).join(' ').replace(/\s+/g, ' ')).to.contain(error);
      for (const l of failed) expect(textWidth(stripTags(l))).to.be.at.most(60);
    });
  });

  describe('the menu of one image', () => {
    it('runs an action by its letter or by Enter on the chosen line, and closes on Esc', () => {
      const state = { imageId: ready.id, selected: 0 };
      expect(imageMenuKey(state, key('o')).action).to.equal('original');
      expect(imageMenuKey(state, key('c')).action).to.equal('cover');
      expect(imageMenuKey(state, key('p')).action).to.equal('compact');
      expect(imageMenuKey(state, key('v')).action).to.equal('open');
      expect(imageMenuKey(state, key('x')).action).to.equal('remove');
      expect(imageMenuKey(state, key('d')).action).to.equal('remove');
      expect(imageMenuKey(state, key('escape')).action).to.equal('close');
      const down = imageMenuKey(imageMenuKey(state, key('down')).state, key('down')).state;
      expect(imageMenuKey(down, key('enter')).action).to.equal('compact');
      expect(imageMenuKey({ ...state, selected: 4 }, key('down')).state.selected).to.equal(4);
    });

    it('says why a rendition cannot be saved yet, or ever', () => {
      expect(unavailable(imageRow(ready, 'a', {}), 'compact')).to.equal(undefined);
      expect(unavailable(imageRow(processing, 'a', {}), 'original')).to.equal(undefined);
      expect(unavailable(imageRow(processing, 'a', {}), 'cover')).to.equal('the cover is still being made: try again in a moment');
      expect(unavailable(imageRow(failed, 'a', {}), 'compact')).to.equal('there is no compact copy: making it failed (the image cannot be decoded)');
      expect(unavailable(imageRow(sealed, 'a', {}), 'compact')).to.match(/a sealed image has no compact copy/);
    });

    it('opens the original if saved, else the compact copy, else the cover', () => {
      expect(openablePath(imageRow(ready, 'a', {}))).to.equal(undefined);
      expect(openablePath(imageRow(ready, 'a', { cover: '/c', compact: '/p' }))).to.deep.equal({ rendition: 'compact', path: '/p' });
      expect(openablePath(imageRow(ready, 'a', { cover: '/c', original: '/o' }))).to.deep.equal({ rendition: 'original', path: '/o' });
    });

    it('lists the actions with what is saved and what is not there, within the width', () => {
      const lines = imageMenuLines(imageRow(processing, 'scan.png', { original: '/o' }), { imageId: processing.id, selected: 0 }, 56).map(stripTags);
      expect(lines.join('\n')).to.match(/o {2}save the original \(34\.5 KB\) +saved/);
      expect(lines.join('\n')).to.match(/c {2}save the cover \(120x120\) +being made/);
      expect(lines.join('\n')).to.match(/x {2}remove the image \(asks first\)/);
      for (const l of lines) expect(textWidth(l)).to.be.at.most(56);
      const nothing = imageMenuLines(imageRow(ready, 'a', {}), { imageId: ready.id, selected: 3 }, 56).map(stripTags).join('\n');
      expect(nothing).to.match(/v {2}open the saved file +nothing saved yet/);
    });
  });

  it('finds xdg-open on the PATH, or says there is none', () => {
    expect(findOpener({ PATH: '/nonexistent-dir' }, 'linux')).to.equal(undefined);
    expect(findOpener({ PATH: '' }, 'linux')).to.equal(undefined);
  });
});
