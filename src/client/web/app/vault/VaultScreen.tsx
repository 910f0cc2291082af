import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { AgentDown, AgentError, agent, isAbort } from '../../api/agent.js';
import { followEvents } from '../../api/events.js';
import type { ChangedEvent, KindTemplate, RecordView, Status, SyncView } from '../../api/schemas.js';
import { emptyClipboard } from '../../lib/clipboard.js';
import { minutes, shownName } from '../../lib/format.js';
import { watchIdle } from '../../lib/idle.js';
import { isTyping } from '../../lib/keys.js';
import type { Session } from '../common/session.js';
import { ConfirmDialog } from '../common/Dialog.js';
import { Notices, type Notice } from '../common/Notices.js';
import type { VaultActions } from './actions.js';
import { DeletedPane } from './DeletedPane.js';
import { HistoryPane } from './HistoryPane.js';
import { RecordForm } from './RecordForm.js';
import { RecordList, type ListItem } from './RecordList.js';
import { RecordView as RecordPane } from './RecordView.js';
import { ShortcutsDialog } from './ShortcutsDialog.js';
import { StatusBar } from './StatusBar.js';

const PAGE = 100;
const MAX_PAGE = 500;
/** Hits drawn per key of a search: more than a screen holds, few enough to redraw at every key. */
const HITS = 50;

type Pane = { view: 'none' } | { view: 'record'; id: string } | { view: 'new' } | { view: 'edit'; id: string } | { view: 'history'; id: string } | { view: 'deleted' };

interface ListState {
  items: ListItem[];
  total: number;
  nextCursor: string | null;
  /** The search these items answer ('' for the plain list). */
  query: string;
}

/**
 * The vault: search and list on one side, the open record (or a form, its history, the deleted
 * records) on the other, the sync state below, kept current by the agent's events. On a phone
 * the two sides take turns.
 */
export function VaultScreen({ initialStatus, session }: { initialStatus: Status; session: Session }) {
  const [status, setStatus] = useState(initialStatus);
  const [query, setQuery] = useState('');
  const [kind, setKind] = useState('');
  const [list, setList] = useState<ListState>({ items: [], total: 0, nextCursor: null, query: '' });
  const [selected, setSelected] = useState(0);
  const [pane, setPane] = useState<Pane>({ view: 'none' });
  const [openRecord, setOpenRecord] = useState<RecordView | null>(null);
  const [revealAll, setRevealAll] = useState(false);
  const [attachRequest, setAttachRequest] = useState(0);
  const [revision, setRevision] = useState(0);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [agentDown, setAgentDown] = useState(false);
  const [kinds, setKinds] = useState<KindTemplate[]>([]);
  const [dialog, setDialog] = useState<null | 'shortcuts' | 'delete'>(null);
  const searchBox = useRef<HTMLInputElement>(null);
  const shownCount = useRef(PAGE);
  const statusRef = useRef(status);
  statusRef.current = status;

  const say = useCallback((text: string, tone: 'info' | 'error' = 'info') => setNotice((before) => ({ text, tone, id: (before?.id ?? 0) + 1 })), []);
  const noteSync = useCallback((sync: SyncView) => setStatus((before) => ({ ...before, sync })), []);
  const fail = useCallback(
    (error: unknown) => {
      if (isAbort(error)) return;
      if (error instanceof AgentError) {
        if (error.kind === 'not-logged-in' || error.kind === 'session-ended') return session.ended();
        if (error.kind === 'locked' && statusRef.current.encrypted) return session.locked(statusRef.current, 'The vault was locked; type the secret word to open it again.');
        return say(error.message, 'error');
      }
      if (error instanceof AgentDown) setAgentDown(true);
      say(error instanceof Error ? error.message : String(error), 'error');
    },
    [session, say],
  );
  const refreshStatus = useCallback(() => {
    agent
      .status()
      .then((next) => {
        setStatus(next);
        setAgentDown(false);
      })
      .catch(fail);
  }, [fail]);

  const actions: VaultActions = {
    say,
    fail,
    noteSync,
    openRecord: (id) => {
      setRevealAll(false);
      setPane({ view: 'record', id });
    },
    changed: () => setRevision((n) => n + 1),
  };

  useEffect(() => {
    agent
      .kinds()
      .then((answer) => setKinds(answer.kinds))
      .catch(fail);
  }, []);

  // The list, or the search's hits: each key starts a search in the agent, and an answer that a newer key overtook is dropped.
  useEffect(() => {
    const controller = new AbortController();
    const q = query.trim();
    const limit = Math.min(MAX_PAGE, Math.max(PAGE, shownCount.current));
    const answer: Promise<ListState & { sync: SyncView }> = q
      ? agent.search(q, { kind, limit: HITS }, controller.signal).then((a) => ({ items: a.hits.map((h) => ({ record: h.record, matched: h.matched, field: h.field })), total: a.total, nextCursor: null, query: q, sync: a.sync }))
      : agent.list({ kind, limit }, controller.signal).then((a) => ({ items: a.records.map((record) => ({ record })), total: a.total, nextCursor: a.nextCursor, query: '', sync: a.sync }));
    answer
      .then(({ sync, ...next }) => {
        setList(next);
        noteSync(sync);
        setAgentDown(false);
      })
      .catch(fail);
    return () => controller.abort();
  }, [query, kind, revision]);

  useEffect(() => {
    shownCount.current = list.items.length;
    setSelected((before) => Math.min(before, Math.max(0, list.items.length - 1)));
  }, [list]);

  const more = async () => {
    if (!list.nextCursor) return;
    try {
      const answer = await agent.list({ kind, cursor: list.nextCursor, limit: PAGE });
      setList((before) => ({ ...before, items: [...before.items, ...answer.records.map((record) => ({ record }))], nextCursor: answer.nextCursor, total: answer.total }));
    } catch (error) {
      fail(error);
    }
  };

  // Changes from elsewhere (another window, another device, the agent's own idle lock) arrive as events.
  useEffect(() => {
    const onChanged = (event: ChangedEvent) => {
      if (event.reason === 'locked') {
        if (statusRef.current.encrypted) session.locked({ ...statusRef.current, unlocked: false }, 'The vault was locked (in another window, or by the agent after a while unused); type the secret word to open it again.');
        return;
      }
      if (event.reason === 'offline') say('The Keeper server cannot be reached: you see the copy your agent holds, and changes wait to be sent.', 'error');
      if (event.reason === 'online') say('The Keeper server can be reached again.');
      if (event.conflicts && event.conflicts.length > 0) {
        say(
          event.conflicts.length === 1
            ? 'A change made here and one made elsewhere touched the same record: the other one was kept, and yours is saved as a conflict copy (marked in the list).'
            : `${event.conflicts.length} changes made here met changes made elsewhere: the others were kept, and yours are saved as conflict copies (marked in the list).`,
          'error',
        );
      }
      if (event.reason === 'synced') setRevision((n) => n + 1);
      refreshStatus();
    };
    // While the stream is broken the agent is asked every few seconds, so an agent that went away
    // is said at once and one that came back is noticed, whatever the browser's own retries do.
    let recheck: number | undefined;
    const checkAgent = () => {
      window.clearTimeout(recheck);
      agent.status().then(
        (next) => {
          setStatus(next);
          setAgentDown(false);
        },
        (error: unknown) => {
          fail(error);
          if (!(error instanceof AgentError && (error.kind === 'not-logged-in' || error.kind === 'session-ended'))) recheck = window.setTimeout(checkAgent, 3_000);
        },
      );
    };
    const stop = followEvents({
      onReady: () => {
        window.clearTimeout(recheck);
        setAgentDown((wasDown) => {
          if (wasDown) {
            say('The agent answers again.');
            setRevision((n) => n + 1);
          }
          return false;
        });
        refreshStatus();
      },
      onChanged,
      onBroken: checkAgent,
    });
    return () => {
      window.clearTimeout(recheck);
      stop();
    };
  }, []);

  const lock = useCallback(
    async (message: string) => {
      await emptyClipboard();
      if (statusRef.current.encrypted) {
        try {
          await agent.lock();
        } catch (error) {
          if (!(error instanceof AgentError) && !(error instanceof AgentDown)) throw error;
        }
      }
      session.locked({ ...statusRef.current, unlocked: false }, message);
    },
    [session],
  );

  useEffect(() => watchIdle(status.idleLockSeconds * 1000, () => void lock(`Locked after ${minutes(status.idleLockSeconds)} without use.`)), [status.idleLockSeconds]);

  const openAt = (index: number) => {
    const item = list.items[index];
    if (!item) return;
    setSelected(index);
    actions.openRecord(item.record.id);
  };
  const openId = pane.view === 'record' || pane.view === 'edit' || pane.view === 'history' ? pane.id : undefined;
  const focusList = () => document.getElementById('record-list')?.focus();
  const closePane = () => {
    setPane({ view: 'none' });
    setTimeout(focusList);
  };

  const remove = async () => {
    setDialog(null);
    if (pane.view !== 'record') return;
    const name = shownName(openRecord?.name ?? null);
    try {
      await agent.remove(pane.id);
      say(`Deleted "${name}". Deleted records (u) can bring it back.`);
      setPane({ view: 'none' });
      setRevision((n) => n + 1);
      setTimeout(focusList);
    } catch (error) {
      fail(error);
    }
  };

  const syncNow = async () => {
    say('Syncing…');
    try {
      const answer = await agent.sync();
      noteSync(answer.sync);
      say(`Synced: ${answer.pulled} change${answer.pulled === 1 ? '' : 's'} in, ${answer.pushed} out, now at version ${answer.sync.version}.`);
      setRevision((n) => n + 1);
    } catch (error) {
      fail(error);
      refreshStatus();
    }
  };

  // The keyboard: shortcuts where no text is being typed; arrows and Enter also from the search box.
  const onKey = useRef<(event: KeyboardEvent) => void>(() => undefined);
  onKey.current = (event: KeyboardEvent) => {
    // A dialog (this screen's, or a pane's picture viewer) takes its own keys, Esc included.
    if (dialog !== null || event.defaultPrevented || document.querySelector('dialog[open]')) return;
    const inSearch = event.target === searchBox.current;
    const inList = event.target instanceof HTMLElement && event.target.id === 'record-list';
    if (event.key === 'Escape') {
      if (inSearch && query !== '') {
        setQuery('');
        return;
      }
      if (inSearch) return focusList();
      if (pane.view === 'edit' || pane.view === 'history') return setPane({ view: 'record', id: pane.id });
      if (pane.view !== 'none') return closePane();
      return;
    }
    if ((inSearch || inList || !isTyping(event.target)) && (event.key === 'ArrowDown' || event.key === 'ArrowUp') && !event.altKey) {
      if (!inSearch && !inList && event.target instanceof HTMLElement && event.target.closest('.detail-pane')) return;
      event.preventDefault();
      const last = list.items.length - 1;
      setSelected((before) => (event.key === 'ArrowDown' ? Math.min(last, before + 1) : Math.max(0, before - 1)));
      return;
    }
    if ((inSearch || inList) && event.key === 'Enter') {
      event.preventDefault();
      return openAt(selected);
    }
    if (isTyping(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
    const recordOpen = pane.view === 'record';
    const act = (fn: () => void) => {
      event.preventDefault();
      fn();
    };
    switch (event.key) {
      case '/':
        return act(() => searchBox.current?.focus());
      case '?':
        return act(() => setDialog('shortcuts'));
      case 'n':
        return act(() => setPane({ view: 'new' }));
      case 'u':
        return act(() => setPane({ view: 'deleted' }));
      case 's':
        return act(() => void syncNow());
      case 'L':
        return act(() => void lock('Locked.'));
      case 'e':
        if (recordOpen) act(() => setPane({ view: 'edit', id: pane.id }));
        return;
      case 'd':
        if (recordOpen && openRecord) act(() => setDialog('delete'));
        return;
      case 'h':
        if (recordOpen) act(() => setPane({ view: 'history', id: pane.id }));
        return;
      case 'r':
        if (recordOpen) act(() => setRevealAll((on) => !on));
        return;
      case 'a':
        if (recordOpen) act(() => setAttachRequest((n) => n + 1));
        return;
    }
  };
  useEffect(() => {
    const listener = (event: KeyboardEvent) => onKey.current(event);
    document.addEventListener('keydown', listener);
    return () => document.removeEventListener('keydown', listener);
  }, []);

  const searching = list.query !== '';
  return (
    <div class="vault" data-pane={pane.view}>
      <header class="top">
        <p class="brand">Keeper</p>
        <p class="who">
          <span class="visually-hidden">Logged in as </span>
          {status.login}
        </p>
        <nav aria-label="Vault">
          <button type="button" onClick={() => setPane({ view: 'new' })} aria-keyshortcuts="n">
            New record
          </button>
          <button type="button" onClick={() => setPane({ view: 'deleted' })} aria-keyshortcuts="u">
            Deleted records
          </button>
          <button type="button" onClick={() => void syncNow()} aria-keyshortcuts="s">
            Sync now
          </button>
          <button type="button" onClick={() => void lock('Locked.')} aria-keyshortcuts="L">
            Lock
          </button>
          <button type="button" onClick={() => void session.loggedOut()}>
            Log out
          </button>
          <button type="button" onClick={() => setDialog('shortcuts')} aria-keyshortcuts="?">
            Shortcuts
          </button>
        </nav>
      </header>
      <main class="columns">
        <Notices notice={notice} dismiss={() => setNotice(null)} />
        <section class="list-pane" aria-labelledby="list-title">
          <h1 id="list-title" class="visually-hidden">
            Records
          </h1>
          <div class="filters" role="search">
            <label for="search">Search</label>
            <input
              id="search"
              ref={searchBox}
              type="search"
              value={query}
              autoComplete="off"
              spellcheck={false}
              placeholder="names, fields, values"
              aria-controls="record-list"
              aria-keyshortcuts="/"
              onInput={(e) => {
                setQuery(e.currentTarget.value);
                setSelected(0);
              }}
            />
            <label for="kind-filter">Kind</label>
            <select id="kind-filter" value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
              <option value="">all kinds</option>
              {['login', 'card', 'note', 'custom'].map((k) => (
                <option key={k} value={k}>
                  {k}
                </option>
              ))}
            </select>
          </div>
          <p class="count" id="list-count" aria-live="polite">
            {searching ? `${list.total} found` : `${list.total} record${list.total === 1 ? '' : 's'}`}
          </p>
          <RecordList items={list.items} selected={selected} openId={openId} query={list.query} onOpen={openAt} />
          {list.nextCursor ? (
            <button type="button" class="more" onClick={() => void more()}>
              Show more ({list.total - list.items.length} more)
            </button>
          ) : null}
          {list.items.length === 0 && !searching ? <p class="empty">No records yet: New record (n) makes one.</p> : null}
        </section>
        <section class="detail-pane" aria-label="Record">
          {pane.view === 'none' ? <p class="empty">Choose a record (↑ ↓ and Enter), or press ? for every key.</p> : null}
          {pane.view === 'record' ? (
            <RecordPane
              id={pane.id}
              revision={revision}
              revealAll={revealAll}
              attachRequest={attachRequest}
              actions={actions}
              onLoaded={setOpenRecord}
              onEdit={() => setPane({ view: 'edit', id: pane.id })}
              onDelete={() => setDialog('delete')}
              onHistory={() => setPane({ view: 'history', id: pane.id })}
              onBack={closePane}
            />
          ) : null}
          {pane.view === 'new' || pane.view === 'edit' ? (
            <RecordForm
              key={pane.view === 'edit' ? pane.id : 'new'}
              editId={pane.view === 'edit' ? pane.id : undefined}
              kinds={kinds}
              actions={actions}
              onSaved={(record) => {
                setRevision((n) => n + 1);
                actions.openRecord(record.id);
              }}
              onCancel={() => (pane.view === 'edit' ? setPane({ view: 'record', id: pane.id }) : closePane())}
            />
          ) : null}
          {pane.view === 'history' ? <HistoryPane id={pane.id} revision={revision} actions={actions} onBack={() => setPane({ view: 'record', id: pane.id })} /> : null}
          {pane.view === 'deleted' ? <DeletedPane revision={revision} actions={actions} onBack={closePane} /> : null}
        </section>
      </main>
      <StatusBar status={status} agentDown={agentDown} />
      {dialog === 'shortcuts' ? <ShortcutsDialog onClose={() => setDialog(null)} /> : null}
      {dialog === 'delete' && openRecord ? (
        <ConfirmDialog
          title="Delete this record?"
          text={`"${shownName(openRecord.name)}" is deleted. Its history keeps it, and Deleted records (u) can bring it back.`}
          confirm="Delete"
          onConfirm={() => void remove()}
          onClose={() => setDialog(null)}
        />
      ) : null}
    </div>
  );
}
