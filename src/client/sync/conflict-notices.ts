import type { ConflictNotice } from '../../domain/rebase.js';

/**
 * What the user is told about one conflict, the same words in every face (CLI, TUI, agents).
 * `name` is the record's name as the user sees it (decrypted when unlocked).
 */
export function describeConflict(conflict: ConflictNotice, name: string): string {
  const copy = conflict.copyId ? ` your version is kept as the conflict copy ${conflict.copyId.slice(0, 8)}` : '';
  switch (conflict.kind) {
    case 'edit_lost':
      return `conflict: "${name}" was also changed elsewhere; the server's ${conflict.parts.join(', ')} won;${copy}`;
    case 'edited_deleted_record':
      return `conflict: "${name}" was deleted elsewhere;${copy}`;
    case 'delete_skipped':
      return `conflict: "${name}" was changed elsewhere, so it was not deleted`;
    case 'restore_lost':
      return `conflict: "${name}" was changed elsewhere, so it was not restored;${copy}`;
    case 'key_changed':
      return 'conflict: encryption was set up elsewhere at the same time; this change was dropped: sync and unlock with that secret word';
    case 'rejected':
      return `conflict: a change to "${name}" no longer applies (${conflict.parts.join('; ')}) and was dropped`;
  }
}
