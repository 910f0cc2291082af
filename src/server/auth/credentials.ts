import { z } from 'zod';
import { LIMITS } from '../../domain/limits.js';
import { hasNoControlCharacters, NO_CONTROL_CHARACTERS } from '../../domain/text.js';

export const LOGIN_MIN_LENGTH = 3;
export const LOGIN_MAX_LENGTH = 64;
export const PASSWORD_MIN_BYTES = 10;
/** bcrypt only reads the first 72 bytes of a password; longer ones would be silently cut. */
export const PASSWORD_MAX_BYTES = 72;

/**
 * ASCII only on purpose: logins are compared lower-cased, in JavaScript and in SQL `lower()`, and
 * ASCII keeps the two in agreement and leaves no look-alike letters.
 */
const LOGIN_PATTERN = /^[A-Za-z0-9._@-]+$/;

const utf8Bytes = (value: string): number => Buffer.byteLength(value, 'utf8');

/** The key a login is compared under: trimmed and lower-cased. */
export function loginKey(login: string): string {
  return login.trim().toLowerCase();
}

/** A login to register: stored as given (trimmed), unique regardless of case. */
export const loginSchema = z
  .string({ error: 'login: is required and must be a string' })
  .trim()
  .min(LOGIN_MIN_LENGTH, { error: `login: must be at least ${LOGIN_MIN_LENGTH} characters` })
  .max(LOGIN_MAX_LENGTH, { error: `login: must be at most ${LOGIN_MAX_LENGTH} characters` })
  .regex(LOGIN_PATTERN, { error: 'login: may contain only letters, digits and the characters . _ @ -' });

/** A new password. Never trimmed: every character counts. */
export const passwordSchema = z
  .string({ error: 'password: is required and must be a string' })
  .refine((p) => utf8Bytes(p) >= PASSWORD_MIN_BYTES, {
    error: `password: must be at least ${PASSWORD_MIN_BYTES} bytes long in UTF-8 (${PASSWORD_MIN_BYTES} plain ASCII characters)`,
    abort: true,
  })
  .refine((p) => utf8Bytes(p) <= PASSWORD_MAX_BYTES, {
    error: `password: must be at most ${PASSWORD_MAX_BYTES} bytes long in UTF-8, because bcrypt ignores everything past ${PASSWORD_MAX_BYTES} bytes`,
    abort: true,
  })
  .refine((p) => new Set(p).size > 1, { error: 'password: must not be one character repeated' })
  // bcrypt reads a password up to its first NUL: everything after it would be ignored.
  .refine((p) => !p.includes('\u0000'), { error: 'password: must not contain a NUL character' });

/** Names the installation a session is for; shown back to the user, so printable text only. */
export const clientIdSchema = z
  .string({ error: 'clientId: must be a string' })
  .max(LIMITS.clientIdMax, { error: `clientId: must be at most ${LIMITS.clientIdMax} characters` })
  .refine(hasNoControlCharacters, { error: `clientId: ${NO_CONTROL_CHARACTERS}` })
  .default('');

export const registerInputSchema = z
  .object({ login: loginSchema, password: passwordSchema, clientId: clientIdSchema })
  .refine((input) => input.password.toLowerCase() !== input.login.toLowerCase(), {
    error: 'password: must not be the same as the login',
    path: ['password'],
  });

/**
 * Credentials presented to Login: only bounds are checked, so a rejection says nothing about what
 * accounts exist. The lower bounds are 1 (not the registration minimums) so that tightening the
 * registration rules never locks out an existing account.
 */
export const loginInputSchema = z.object({
  login: z
    .string({ error: 'login: is required and must be a string' })
    .trim()
    .min(1, { error: 'login: is required' })
    .max(LOGIN_MAX_LENGTH, { error: `login: must be at most ${LOGIN_MAX_LENGTH} characters` })
    .refine(hasNoControlCharacters, { error: `login: ${NO_CONTROL_CHARACTERS}` }),
  password: z
    .string({ error: 'password: is required and must be a string' })
    .min(1, { error: 'password: is required' })
    .refine((p) => utf8Bytes(p) <= PASSWORD_MAX_BYTES, {
      error: `password: must be at most ${PASSWORD_MAX_BYTES} bytes long in UTF-8`,
    })
    .refine((p) => !p.includes('\u0000'), { error: 'password: must not contain a NUL character' }),
  clientId: clientIdSchema,
});

export type RegisterInput = z.infer<typeof registerInputSchema>;
export type LoginInput = z.infer<typeof loginInputSchema>;

export interface CredentialProblem {
  field: string;
  message: string;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; problem: CredentialProblem };

/** Validates `input`; on failure reports the first problem (its field and a "field: ..." message). */
export function parseRegisterInput(input: unknown): ParseResult<RegisterInput> {
  return toResult(registerInputSchema.safeParse(input));
}

export function parseLoginInput(input: unknown): ParseResult<LoginInput> {
  return toResult(loginInputSchema.safeParse(input));
}

function toResult<T>(result: z.ZodSafeParseResult<T>): ParseResult<T> {
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0];
  const field = typeof issue?.path[0] === 'string' ? issue.path[0] : 'request';
  // Zod's own messages (e.g. for a non-object input) do not name a field; ours always do.
  const message = issue && issue.message.startsWith(`${field}: `) ? issue.message : `${field}: is invalid`;
  return { ok: false, problem: { field, message } };
}
