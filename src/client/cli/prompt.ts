import { createInterface } from 'node:readline';
import { CliError, EXIT } from './exit-codes.js';

let stdinLines: AsyncIterator<string> | undefined;

/** The next line of a piped stdin (for scripts: `printf 'pw\n' | keeper login --login me`). */
async function nextStdinLine(what: string): Promise<string> {
  stdinLines ??= createInterface({ input: process.stdin, crlfDelay: Infinity })[Symbol.asyncIterator]();
  const next = await stdinLines.next();
  if (next.done) throw new CliError(`${what} is needed: type it at the prompt, or pipe it on standard input`, EXIT.usage);
  return next.value;
}

/** Asks for a secret without echoing it; from a pipe it reads one line instead. */
export async function promptSecret(label: string): Promise<string> {
  if (!process.stdin.isTTY) return nextStdinLine(label);
  const stdin = process.stdin;
  process.stderr.write(`${label}: `);
  return new Promise((resolve, reject) => {
    let value = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const finish = (error?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') return finish();
        if (char === '\u0003') return finish(new CliError('cancelled', EXIT.failure));
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else if (char >= ' ') value += char;
      }
    };
    stdin.on('data', onData);
  });
}

/** Asks for a plain value (echoed); from a pipe it reads one line. */
export async function promptLine(label: string): Promise<string> {
  if (!process.stdin.isTTY) return nextStdinLine(label);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await new Promise((resolve) => rl.question(`${label}: `, resolve));
  } finally {
    rl.close();
  }
}

/**
 * Everything left on standard input, as one text (a note of many lines): what follows any line
 * a prompt read first. One final line break is dropped, as a shell's `echo` or an editor adds it.
 */
export async function readStdinText(what: string): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write(`${what}: type the text, then Ctrl-D on a line of its own\n`);
  let text: string;
  if (stdinLines) {
    const lines: string[] = [];
    for (let next = await stdinLines.next(); !next.done; next = await stdinLines.next()) lines.push(next.value);
    text = lines.join('\n');
  } else {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
    text = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  }
  return text.replace(/\r\n/g, '\n');
}
