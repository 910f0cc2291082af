import type { ImageActions } from './image-actions.js';
import type { Key } from './kit/keys.js';
import type { Notices } from './notices.js';
import type { RecordActions } from './record-actions.js';
import { deletedKey, historyKey, moveInList } from './screens/history.js';
import { attachKey, imageMenuKey } from './screens/images.js';
import { formKey } from './screens/record-form.js';
import { secretWordKey } from './screens/secret-word.js';
import { SCROLL_END, type Overlay, type Screen } from './state.js';
import type { VaultAccess } from './vault-access.js';
import { transferKey } from './screens/transfer.js';
import type { TransferActions } from './transfer-actions.js';

/** What the keys of the boxes over the main screen reach. */
export interface OverlayKeyContext {
  screen: Screen;
  notices: Notices;
  records: RecordActions;
  images: ImageActions;
  transfers: TransferActions;
  access: VaultAccess;
  act: (work: () => Promise<void>) => void;
}

/** A key for the box on top of the main screen. */
export function overlayKey(overlay: Overlay, key: Key, c: OverlayKeyContext): void {
  const close = () => c.screen.overlays.pop();
  switch (overlay.kind) {
    case 'help':
    case 'messages': {
      // The top line moves; drawing clamps it to the text.
      const moved = key.full === 'j' || key.full === 'k' ? undefined : moveInList(overlay.top, SCROLL_END + 1, key, 10);
      if (moved !== undefined) overlay.top = moved;
      else close();
      return;
    }
    case 'confirm':
      if (key.full === 'y' || key.full === 'Y' || key.full === 'enter') {
        close();
        c.act(overlay.yes);
      } else if (key.full === 'n' || key.full === 'N' || key.full === 'escape' || key.full === 'q') close();
      return;
    case 'form': {
      if (overlay.busy) return;
      const { state, action } = formKey(overlay.form, key);
      overlay.form = state;
      if (action === 'cancel') {
        close();
        c.notices.say(state.mode === 'create' ? 'nothing was added' : 'the edit was cancelled; nothing changed', 'info');
      } else if (action === 'save') c.act(() => c.records.saveForm(overlay));
      return;
    }
    case 'history': {
      const { state, action } = historyKey(overlay.state, key);
      overlay.state = state;
      if (action === 'close') close();
      else if (action === 'choose') c.records.confirmRestore(overlay);
      return;
    }
    case 'attach': {
      if (overlay.busy) {
        // The upload goes on without the prompt; its result comes on the message line.
        if (key.full === 'escape') close();
        return;
      }
      const { state, action } = attachKey(overlay.state, key);
      overlay.state = state;
      if (action === 'cancel') {
        close();
        c.notices.say('nothing was attached', 'info');
      } else if (action === 'submit') c.act(() => c.images.attach(overlay));
      return;
    }
    case 'transfer': {
      if (overlay.busy) return;
      const { state, action } = transferKey(overlay.state, key);
      overlay.state = state;
      if (action === 'cancel') {
        close();
        c.notices.say(state.direction === 'import' ? 'nothing was imported' : 'nothing was exported', 'info');
      } else if (action === 'submit') c.act(() => c.transfers.submit(overlay));
      return;
    }
    case 'image': {
      const { state, action } = imageMenuKey(overlay.state, key);
      overlay.state = state;
      if (action === 'close') close();
      else if (action) {
        if (action !== 'remove') close();
        c.images.imageAction(state.imageId, action);
      }
      return;
    }
    case 'secret-word': {
      if (overlay.busy) return;
      const { state, action } = secretWordKey(overlay.state, key);
      overlay.state = state;
      if (action === 'cancel') {
        close();
        c.notices.say(state.mode === 'encrypt' ? 'encryption stays off' : 'the secret word stays as it was', 'info');
      } else if (action === 'submit') c.act(() => c.access.setSecretWord(overlay));
      return;
    }
    case 'deleted': {
      const { state, action } = deletedKey(overlay.state, key);
      overlay.state = state;
      if (action === 'close') close();
      else if (action === 'choose') c.act(() => c.records.openHistory(state.records[state.selected]?.id));
      return;
    }
  }
}
