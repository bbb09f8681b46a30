import { and, eq, getTableColumns, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../../db/client';
import { interactions } from '../../db/schema';
import { pageQuerySchema, keysetTime, newestFirst, toPage } from '../pagination';
import { isoInstant } from './query';

/** GET /api/interactions: the unified timeline (emails, meetings, CRM changes), newest first. */
export const interactionListQuery = pageQuerySchema
  .extend({
    source: z.enum(['email', 'calendar', 'crm']).optional(),
    after: isoInstant.optional(),
    before: isoInstant.optional(),
  })
  .refine((q) => !q.after || !q.before || q.after.at < q.before.at, {
    path: ['before'],
    message: 'must be later than after',
  });
export type InteractionListQuery = z.infer<typeof interactionListQuery>;

const { userId: _u, deletedAt: _d, ...interactionColumns } = getTableColumns(interactions);
export type InteractionView = Omit<typeof interactions.$inferSelect, 'userId' | 'deletedAt'>;

/** Served by interactions_user_recent_idx (user_id, occurred_at DESC NULLS LAST, id DESC NULLS LAST). */
export async function listInteractions(db: Db, userId: string, query: InteractionListQuery) {
  const i = interactions;
  const keyset = newestFirst(i.occurredAt, i.id, query);
  const rows = await db
    .select({ ...interactionColumns, keysetTime: keysetTime(i.occurredAt) })
    .from(i)
    .where(
      and(
        eq(i.userId, userId),
        isNull(i.deletedAt),
        query.source ? eq(i.source, query.source) : undefined,
        query.after ? sql`${i.occurredAt} >= ${query.after.iso}::timestamptz` : undefined,
        query.before ? sql`${i.occurredAt} < ${query.before.iso}::timestamptz` : undefined,
        keyset.after,
      ),
    )
    .orderBy(...keyset.orderBy)
    .limit(keyset.limit);
  return toPage(rows, query.limit, ({ keysetTime: _k, ...row }): InteractionView => row);
}
