import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client';

/**
 * Deletes webhook deliveries (`webhook_events`) received more than `retentionDays` ago, in one
 * statement; returns how many. Auth deliveries are kept: Nango dates none, so only their
 * de-duplication row tells an old one replayed (a refresh failure, a creation) from a new one. They
 * are few: one per connect or re-auth.
 */
export async function pruneWebhookDeliveries(db: DbOrTx, retentionDays: number): Promise<number> {
  const result = await db.execute(sql`
    DELETE FROM webhook_events
    WHERE received_at < now() - make_interval(days => ${retentionDays}) AND type <> 'auth'
  `);
  return result.rowCount ?? 0;
}
