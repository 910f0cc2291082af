/**
 * A one-line progress report (count, rate, elapsed) on a terminal's stderr, redrawn at most a few
 * times a second; silent when stderr is not a terminal, so piped output stays clean.
 */
export function progressReporter(label: string, unit: string, stream: NodeJS.WriteStream = process.stderr) {
  const started = Date.now();
  let count = 0;
  let lastDraw = 0;
  const draw = (final: boolean) => {
    if (!stream.isTTY) return;
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? Math.round(count / seconds) : 0;
    stream.write(`\r${label}: ${count.toLocaleString('en')} ${unit}, ${rate.toLocaleString('en')} ${unit}/s, ${seconds.toFixed(1)} s${final ? '\n' : ''}`);
  };
  return {
    add(n: number) {
      count += n;
      const now = Date.now();
      if (now - lastDraw > 200) {
        lastDraw = now;
        draw(false);
      }
    },
    done() {
      draw(true);
    },
  };
}
