import { failureOf } from '../core/failures.js';
import { CHARACTER_CLASSES, describeEntropy, generatePassphrase, generatePassword, type CharacterClass, type Generated } from '../core/generator.js';
import { jsonText } from '../terminal-text.js';
import type { Context } from './commands.js';
import { CliError, EXIT } from './exit-codes.js';

export interface GenerateOptions {
  length?: string;
  lower?: boolean;
  upper?: boolean;
  digits?: boolean;
  symbols?: boolean;
  avoidLookAlikes?: boolean;
  passphrase?: boolean;
  words?: string;
  separator?: string;
  capitalise?: boolean;
  json?: boolean;
}

/** A password (or, with --passphrase or --words, a passphrase) as the options ask; a usage error says why not. */
export function generateFrom(options: GenerateOptions): Generated {
  const whole = (text: string | undefined, flag: string) => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) throw new CliError(`${flag} ${text}: must be a whole number`, EXIT.usage);
    return n;
  };
  try {
    if (options.passphrase || options.words !== undefined) {
      const words = whole(options.words, '--words');
      return generatePassphrase({ ...(words !== undefined ? { words } : {}), ...(options.separator !== undefined ? { separator: options.separator } : {}), capitalise: Boolean(options.capitalise) });
    }
    const length = whole(options.length, '--length');
    const classes = (Object.keys(CHARACTER_CLASSES) as CharacterClass[]).filter((klass) => options[klass] !== false);
    return generatePassword({ ...(length !== undefined ? { length } : {}), classes, avoidLookAlikes: Boolean(options.avoidLookAlikes) });
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(failureOf(error).message, EXIT.usage);
  }
}

/**
 * `keeper generate`: the value alone on stdout (so it can be piped), its entropy on stderr; both
 * as JSON with --json. Nothing is stored.
 */
export async function generateCommand(ctx: Pick<Context, 'out' | 'warn'>, options: GenerateOptions): Promise<void> {
  const generated = generateFrom(options);
  if (options.json) {
    ctx.out(jsonText({ kind: generated.kind, value: generated.value, entropyBits: Math.round(generated.entropyBits * 10) / 10 }, 2));
    return;
  }
  ctx.out(generated.value);
  ctx.warn(`${generated.kind}: ${describeEntropy(generated.entropyBits)}`);
}
