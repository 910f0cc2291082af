import { randomUUID } from 'node:crypto';
import type { SqlExecutor } from '../sql/database.js';

export interface UserRecord {
  userId: string;
  /** As registered (trimmed); compare with `loginKey`. */
  login: string;
  passwordHash: string;
  createdAt: Date;
}

/** The login is taken, in any letter case. */
export class LoginTakenError extends Error {
  constructor() {
    super('login is already taken');
    this.name = 'LoginTakenError';
  }
}

interface UserRow {
  user_id: string;
  login: string;
  password_hash: string;
  created_at: Date;
}

const USER_COLUMNS = `user_id::text AS user_id, login, password_hash, created_at`;

/** The `users` table. Logins are unique by `lower(login)` (a unique index), stored as given. */
export class UserStore {
  constructor(private readonly db: SqlExecutor) {}

  /** Inserts a user and returns its new id; throws LoginTakenError when the login is taken. */
  async create(login: string, passwordHash: string): Promise<string> {
    const userId = randomUUID();
    try {
      await this.db.query(`INSERT INTO users (user_id, login, password_hash) VALUES ($1, $2, $3)`, [userId, login, passwordHash]);
    } catch (error) {
      if (isUniqueViolation(error)) throw new LoginTakenError();
      throw error;
    }
    return userId;
  }

  /** Case-insensitive. */
  async findByLogin(login: string): Promise<UserRecord | null> {
    const rows = await this.db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE lower(login) = lower($1)`, [login]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async findById(userId: string): Promise<UserRecord | null> {
    if (!isUuid(userId)) return null;
    const rows = await this.db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE user_id = $1`, [userId]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** Replaces a password hash (e.g. rehashing with a higher cost after a good login). */
  async setPasswordHash(userId: string, passwordHash: string): Promise<void> {
    await this.db.query(`UPDATE users SET password_hash = $2 WHERE user_id = $1`, [userId, passwordHash]);
  }
}

function toRecord(row: UserRow): UserRecord {
  return { userId: row.user_id, login: row.login, passwordHash: row.password_hash, createdAt: new Date(row.created_at) };
}

export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}
