import { z } from 'zod';
import { fieldKindOf } from '../../../domain/record.js';
import { KeeperFailure } from '../../core/failures.js';
import { CHARACTER_CLASSES, describeEntropy, generatePassphrase, generatePassword, PASSPHRASE_WORDS, PASSWORD_LENGTH, type CharacterClass } from '../../core/generator.js';
import { liveRecord } from '../../core/lookups.js';
import { oneTimeCode, totpFields } from '../../core/totp.js';
import { callerOf, type AgentApp, type AgentContext } from './context.js';
import { problemAnswer, recordParams } from './schemas.js';

const problems = { 400: problemAnswer, 401: problemAnswer, 404: problemAnswer, 423: problemAnswer };

const flag = z.union([z.boolean(), z.enum(['0', '1', 'true', 'false']).transform((text) => text === '1' || text === 'true')]);

/** What a generator is asked for, the same whether it comes as a query (GET) or a body (POST). */
const generateOptions = z.object({
  kind: z.enum(['password', 'passphrase']).default('password'),
  length: z.coerce.number().int().min(PASSWORD_LENGTH.min).max(PASSWORD_LENGTH.max).default(PASSWORD_LENGTH.default).describe('password characters'),
  lower: flag.default(true),
  upper: flag.default(true),
  digits: flag.default(true),
  symbols: flag.default(true),
  avoidLookAlikes: flag.default(false).describe('leave out 0 O o 1 l I |'),
  words: z.coerce.number().int().min(PASSPHRASE_WORDS.min).max(PASSPHRASE_WORDS.max).default(PASSPHRASE_WORDS.default).describe('passphrase words (EFF large list)'),
  separator: z.string().max(3).default('-').describe('between passphrase words'),
  capitalise: flag.default(false),
});

const generateAnswer = z.object({
  kind: z.enum(['password', 'passphrase']),
  value: z.string(),
  entropyBits: z.number().describe('log2 of the number of equally likely values these options give'),
  entropy: z.string().describe('the same in words'),
});

const codeQuery = z.object({ field: z.string().max(100).optional().describe('which one-time-code field, when the record has several') });
const codeAnswer = z.object({
  field: z.string(),
  code: z.string(),
  secondsLeft: z.number().int(),
  period: z.number().int(),
  digits: z.number().int(),
});

/** Everyday tools that are not records: the generator, and a record's current one-time code. */
export function everydayRoutes(app: AgentApp, context: AgentContext): void {
  const generate = (options: z.output<typeof generateOptions>) => {
    const made =
      options.kind === 'passphrase'
        ? generatePassphrase({ words: options.words, separator: options.separator, capitalise: options.capitalise })
        : generatePassword({
            length: options.length,
            classes: (Object.keys(CHARACTER_CLASSES) as CharacterClass[]).filter((klass) => options[klass]),
            avoidLookAlikes: options.avoidLookAlikes,
          });
    return { kind: made.kind, value: made.value, entropyBits: Math.round(made.entropyBits * 10) / 10, entropy: describeEntropy(made.entropyBits) };
  };
  const summary = 'a random password or passphrase (nothing is stored), with its entropy';
  app.get('/v1/generate', { schema: { summary, tags: ['tools'], querystring: generateOptions, response: { 200: generateAnswer, ...problems } } }, async (request) => {
    callerOf(context, request);
    return generate(request.query);
  });
  app.post('/v1/generate', { schema: { summary, tags: ['tools'], body: generateOptions.default(generateOptions.parse({})), response: { 200: generateAnswer, ...problems } } }, async (request) => {
    callerOf(context, request);
    return generate(request.body);
  });

  app.get(
    '/v1/records/:id/code',
    { schema: { summary: "a record's current one-time code (TOTP) and the seconds it has left", tags: ['records'], params: recordParams, querystring: codeQuery, response: { 200: codeAnswer, ...problems } } },
    async (request) => {
      const { user } = callerOf(context, request);
      const handle = await user.vault();
      user.refreshSoon();
      const record = handle.vault.open(liveRecord(handle.vault, request.params.id));
      const all = record.fields.filter((f) => fieldKindOf(f) === 'totp');
      const wanted = request.query.field === undefined ? all[0] : all.find((f) => f.name === request.query.field);
      if (!wanted) throw new KeeperFailure('not-found', all.length === 0 ? 'the record has no one-time-code field' : `the record has no one-time-code field "${request.query.field}"`);
      if (!totpFields(record).includes(wanted)) throw new KeeperFailure('locked', 'the one-time-code secret is sealed and the vault is locked: unlock it first');
      const code = oneTimeCode(wanted.value);
      return { field: wanted.name, code: code.code, secondsLeft: code.secondsLeft, period: code.period, digits: code.digits };
    },
  );
}
