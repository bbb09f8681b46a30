import { z } from 'zod';
import { DomainError } from './errors';

/** Keyset position of the last row of a page: opaque to clients (base64url JSON). */
export interface Position {
  createdAt: Date;
  id: number;
}

export function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify({ t: position.createdAt.toISOString(), i: position.id })).toString('base64url');
}

const cursorSchema = z.object({ t: z.iso.datetime({ offset: true }), i: z.number().int().positive() });

export function decodeCursor(cursor: string): Position {
  try {
    const parsed = cursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    return { createdAt: new Date(parsed.t), id: parsed.i };
  } catch {
    throw new DomainError('validation_failed', 'cursor is not one this API returned', [
      { path: 'cursor', message: 'invalid cursor' },
    ]);
  }
}

/** `?limit=` (1..100, default 25) and `?cursor=`, shared by every list endpoint. */
export const pageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().min(1).max(500).optional(),
});
