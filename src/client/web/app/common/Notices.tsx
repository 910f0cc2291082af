export interface Notice {
  text: string;
  tone: 'info' | 'error';
  /** Bumped so that the same sentence said twice is announced twice. */
  id: number;
}

/** The page's message line: news in a polite live region, errors in an alert, each a sentence. */
export function Notices({ notice, dismiss }: { notice: Notice | null; dismiss: () => void }) {
  return (
    <div class="notices">
      <div role="status" aria-live="polite" class="notice info" id="notice-info">
        {notice?.tone === 'info' ? <span key={notice.id}>{notice.text}</span> : null}
      </div>
      <div role="alert" class="notice error" id="notice-error">
        {notice?.tone === 'error' ? <span key={notice.id}>{notice.text}</span> : null}
      </div>
      {notice ? (
        <button type="button" class="link dismiss" onClick={dismiss}>
          Dismiss message
        </button>
      ) : null}
    </div>
  );
}
