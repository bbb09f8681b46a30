/**
 * Postgres errors that mean "this statement lost a race and changed nothing": a deadlock victim
 * (40P01) or a serialization failure (40001). A single statement that fails with one of them
 * rolled back whole, so running it again is safe.
 */
const LOST_RACE_CODES = new Set(['40P01', '40001']);

export function isLostRace(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code ?? (error as { cause?: { code?: string } } | null)?.cause?.code;
  return code !== undefined && LOST_RACE_CODES.has(code);
}
