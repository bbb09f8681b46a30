import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { DbOrTx } from '../../db/client';
import { DomainError } from '../errors';
import { safeText } from './input';

/**
 * API keys: the second way in, for the frontend's server and scripts. A key is `sk_` and 43 base64url
 * characters (32 random bytes), shown once when it is created; only its SHA-256 is stored, so a
 * database leak reveals no usable key (a 256-bit random secret needs no slow hash, and a lookup by
 * hash needs no constant-time compare). A key acts as its user, scoped like a Firebase token, within
 * its scopes: `read` (GET) and `write` (POST, PATCH, DELETE). Owns the table `api_keys`.
 */

export const API_KEY_PREFIX = 'sk_';
export const apiKeyScopes = ['read', 'write'] as const;
export type ApiKeyScope = (typeof apiKeyScopes)[number];

/** POST /api/api-keys. */
export const apiKeyCreateSchema = z.strictObject({
  name: safeText().trim().min(1).max(100),
  scopes: z.array(z.enum(apiKeyScopes)).min(1).max(apiKeyScopes.length).default(['read']),
  /** Days until the key stops working; none: until revoked. */
  expiresInDays: z.number().int().min(1).max(3_650).optional(),
});

/** More than enough for rotation (old and new side by side) across a user's scripts and servers. */
export const MAX_ACTIVE_KEYS_PER_USER = 25;
/** Characters of the key shown in lists, to tell keys apart: the prefix and 8 of the secret. */
const SHOWN_CHARACTERS = API_KEY_PREFIX.length + 8;
const KEY_FORMAT = /^sk_[A-Za-z0-9_-]{43}$/;
/** last_used_at is written at most this often per key: a write per request would be a hot row. */
const LAST_USED_RESOLUTION = sql.raw(`interval '1 minute'`);

export interface ApiKeyView {
  id: number;
  name: string;
  /** The first characters of the key, to recognise it: the rest is never shown again. */
  prefix: string;
  scopes: ApiKeyScope[];
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
}

export interface AuthenticatedKey {
  id: number;
  userId: string;
  orgId: string | null;
  scopes: ApiKeyScope[];
}

function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

const VIEW_COLUMNS = sql.raw(`id, name, prefix, scopes, created_at, last_used_at, expires_at`);

function toView(row: Record<string, unknown>): ApiKeyView {
  const date = (value: unknown) => (value === null || value === undefined ? null : new Date(value as string));
  return {
    id: Number(row.id),
    name: row.name as string,
    prefix: row.prefix as string,
    scopes: row.scopes as ApiKeyScope[],
    createdAt: date(row.created_at)!,
    lastUsedAt: date(row.last_used_at),
    expiresAt: date(row.expires_at),
  };
}

/**
 * Creates a key for the user; the answer is the only time its secret is shown. At most
 * MAX_ACTIVE_KEYS_PER_USER unrevoked, unexpired keys (422 past that): the count and the insert are one
 * statement, serialised per user by an advisory lock so two concurrent creations cannot both slip in.
 */
export async function createApiKey(
  db: DbOrTx,
  input: { userId: string; orgId: string | null; name: string; scopes: readonly ApiKeyScope[]; expiresInDays?: number },
): Promise<{ key: string; apiKey: ApiKeyView }> {
  const key = API_KEY_PREFIX + randomBytes(32).toString('base64url');
  const scopes = [...new Set(input.scopes)].sort();
  const result = await db.execute(sql`
    WITH lock AS (SELECT pg_advisory_xact_lock(hashtextextended('api_keys:' || ${input.userId}, 0))),
    active AS (
      SELECT count(*) AS n FROM api_keys, lock
      WHERE user_id = ${input.userId} AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
    )
    INSERT INTO api_keys (user_id, org_id, name, prefix, key_hash, scopes, expires_at)
    SELECT ${input.userId}, ${input.orgId}, ${input.name}, ${key.slice(0, SHOWN_CHARACTERS)}, ${hashKey(key)},
      ${sql.param(scopes)}::text[],
      ${input.expiresInDays === undefined ? null : sql`now() + make_interval(days => ${input.expiresInDays})`}
    FROM active WHERE active.n < ${MAX_ACTIVE_KEYS_PER_USER}
    RETURNING ${VIEW_COLUMNS}
  `);
  const row = (result.rows as Record<string, unknown>[])[0];
  if (!row) {
    throw new DomainError('unprocessable', `a user may have at most ${MAX_ACTIVE_KEYS_PER_USER} active API keys; revoke one first`, [
      { path: '', message: 'too many active API keys' },
    ]);
  }
  return { key, apiKey: toView(row) };
}

/** The user's keys that are not revoked (expired ones included, with their expiry), newest first. */
export async function listApiKeys(db: DbOrTx, userId: string): Promise<ApiKeyView[]> {
  const result = await db.execute(sql`
    SELECT ${VIEW_COLUMNS} FROM api_keys
    WHERE user_id = ${userId} AND revoked_at IS NULL
    ORDER BY created_at DESC, id DESC
  `);
  return (result.rows as Record<string, unknown>[]).map(toView);
}

/** Revokes one of the user's keys; another user's (or an unknown or revoked) key is not found. */
export async function revokeApiKey(db: DbOrTx, userId: string, id: number): Promise<ApiKeyView> {
  const result = await db.execute(sql`
    UPDATE api_keys SET revoked_at = now()
    WHERE id = ${id} AND user_id = ${userId} AND revoked_at IS NULL
    RETURNING ${VIEW_COLUMNS}
  `);
  const row = (result.rows as Record<string, unknown>[])[0];
  if (!row) throw new DomainError('not_found', 'no such API key');
  return toView(row);
}

/**
 * The live key (not revoked, not expired) whose hash matches, or null. Records its use (at most once a
 * minute) in the same statement.
 */
export async function findApiKey(db: DbOrTx, key: string): Promise<AuthenticatedKey | null> {
  if (!KEY_FORMAT.test(key)) return null;
  const result = await db.execute(sql`
    WITH found AS (
      SELECT id, user_id, org_id, scopes, last_used_at FROM api_keys
      WHERE key_hash = ${hashKey(key)} AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
    ),
    touched AS (
      UPDATE api_keys SET last_used_at = now()
      FROM found
      WHERE api_keys.id = found.id
        AND (found.last_used_at IS NULL OR found.last_used_at < now() - ${LAST_USED_RESOLUTION})
    )
    SELECT id, user_id, org_id, scopes FROM found
  `);
  const row = (result.rows as Record<string, unknown>[])[0];
  if (!row) return null;
  return { id: Number(row.id), userId: row.user_id as string, orgId: (row.org_id as string | null) ?? null, scopes: row.scopes as ApiKeyScope[] };
}
