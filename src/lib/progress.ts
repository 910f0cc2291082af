/**
 * A one-line progress report on a terminal's stderr, redrawn at most a few times a second; silent
 * when stderr is not a terminal, so piped output stays clean. With a total (set up front or later
 * with `total()`) it is a bar with percent, rate and ETA; without one, a count with rate and
 * elapsed time. Nothing is drawn in the first half second, so quick runs leave no trace.
 */
export function progressReporter(label: string, unit: string, stream: NodeJS.WriteStream = process.stderr, total?: number) {
  const started = Date.now();
  let count = 0;
  let lastDraw = 0;
  let drawn = false;
  const n = (value: number) => Math.round(value).toLocaleString('en');
  const draw = (final: boolean) => {
    if (!stream.isTTY) return;
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? count / seconds : 0;
    let line: string;
    if (total !== undefined && total > 0) {
      const share = Math.min(1, count / total);
      const width = 24;
      const filled = Math.round(share * width);
      const eta = final ? `${seconds.toFixed(1)} s` : rate > 0 ? `ETA ${formatDuration((total - count) / rate)}` : 'ETA -';
      line = `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(share * 100)).padStart(3)}% ${n(count)}/${n(total)} ${unit}, ${n(rate)} ${unit}/s, ${eta}`;
    } else {
      line = `${label}: ${n(count)} ${unit}, ${n(rate)} ${unit}/s, ${seconds.toFixed(1)} s`;
    }
    // Clear to the end of the line: a shorter redraw must not leave the tail of a longer one.
    stream.write(`\r${line}\x1b[K${final ? '\n' : ''}`);
    drawn = true;
  };
  return {
    add(value: number) {
      count += value;
      const now = Date.now();
      if (now - started >= 500 && now - lastDraw > 200) {
        lastDraw = now;
        draw(false);
      }
    },
    total(value: number) {
      total = value;
    },
    done() {
      if (drawn) draw(true);
    },
  };
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '-';
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(Math.floor(seconds % 60)).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}
