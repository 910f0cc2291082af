/**
 * Text on its way to a terminal. Record names, values, file names and server messages come from
 * other devices and may hold anything: an ESC or a C1 control (U+0080..U+009F, which some
 * terminals read as ESC-[) in them could retitle, recolour or scramble the reader's terminal.
 * The CLI and the TUI both pass such text through here.
 */

// C0 controls, DEL and C1 controls: everything a terminal may act on instead of drawing.
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;
const LINE_BREAKS = /\r\n|[\n\r]/g;

/**
 * One line of untrusted text made safe to show: line breaks become `newline`, a tab a space,
 * and every other control character a visible `?`, so none can move the cursor or change the
 * terminal's state.
 */
export function escapeControls(text: string, newline = '↵'): string {
  return text.replace(LINE_BREAKS, newline).replace(/\t/g, ' ').replace(CONTROLS, '?');
}

/** A block of lines the program laid out itself: its own line breaks stay, every other control is escaped. */
export function terminalSafe(block: string): string {
  return block
    .split('\n')
    .map((line) => escapeControls(line))
    .join('\n');
}

/**
 * JSON for `--json`: exact (JSON.parse gives back every character), yet with no raw control
 * character on the wire. JSON.stringify already escapes C0 controls; C1 controls and the two
 * Unicode line separators it leaves raw are written as \u escapes, which parse back to the same
 * characters.
 */
export function jsonText(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(/[\u007f-\u009f\u2028\u2029]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
