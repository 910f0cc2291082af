import { useEffect } from 'preact/hooks';
import type { RecordSummary } from '../../api/schemas.js';
import { formatWhen, shownName } from '../../lib/format.js';

export interface ListItem {
  record: RecordSummary;
  matched?: 'name' | 'field';
  field?: string | undefined;
}

export function optionId(id: string): string {
  return `record-${id}`;
}

/**
 * The records as a listbox: one tab stop, arrows move the choice (handled by the screen, so they
 * also work from the search box), Enter or a click opens it.
 */
export function RecordList({ items, selected, openId, query, onOpen }: { items: ListItem[]; selected: number; openId: string | undefined; query: string; onOpen: (index: number) => void }) {
  const chosen = items[selected];
  useEffect(() => {
    if (chosen) document.getElementById(optionId(chosen.record.id))?.scrollIntoView({ block: 'nearest' });
  }, [chosen?.record.id]);
  return (
    <ul role="listbox" id="record-list" aria-label="Records" tabIndex={0} aria-activedescendant={chosen ? optionId(chosen.record.id) : undefined} data-query={query}>
      {items.map((item, index) => {
        const { record } = item;
        return (
          <li
            key={record.id}
            id={optionId(record.id)}
            role="option"
            aria-selected={index === selected}
            class={`record-row${index === selected ? ' chosen' : ''}${record.id === openId ? ' open' : ''}`}
            onClick={() => onOpen(index)}
          >
            <span class="record-name">{shownName(record.name)}</span>
            {record.conflictOf ? <span class="badge conflict">conflict copy</span> : null}
            <span class="record-kind">{record.kind}</span>
            <span class="record-when">{formatWhen(record.updatedAt)}</span>
            {item.matched === 'field' && item.field ? <span class="matched">found in {item.field}</span> : null}
          </li>
        );
      })}
    </ul>
  );
}
