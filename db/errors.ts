/**
 * Postgres error codes (SQLSTATE), read from a node-postgres error or from the error Drizzle wraps
 * around one (`cause`).
 */
export function pgErrorCode(error: unknown): string | undefined {
  const e = error as { code?: unknown; cause?: { code?: unknown } } | null | undefined;
  const code = typeof e?.code === 'string' ? e.code : e?.cause?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A unique constraint refused the row (23505). */
export function isUniqueViolation(error: unknown): boolean {
  return pgErrorCode(error) === '23505';
}

/**
 * The statement lost a race and changed nothing: a deadlock victim (40P01) or a serialization failure
 * (40001). A single statement that fails with one of them rolled back whole, so running it again is safe.
 */
export function isLostRace(error: unknown): boolean {
  const code = pgErrorCode(error);
  return code === '40P01' || code === '40001';
}
