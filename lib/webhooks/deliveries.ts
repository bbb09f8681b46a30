import { and, desc, eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client';
import { webhookEvents, type webhookStatuses } from '../../db/schema';
import { decodeKeyset, keysetTime, toPage } from '../pagination';

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

export interface DeliveryView {
  id: number;
  type: string;
  status: (typeof webhookStatuses)[number];
  /** Why it was rejected or ignored (unknown connection, another user's, no end user, provider off, ...). */
  error: string | null;
  nangoConnectionId: string | null;
  providerConfigKey: string | null;
  receivedAt: Date;
  /** What the delivery said, without its payload: Nango's flags and names only. */
  summary: { operation?: string; success?: boolean; syncName?: string; model?: string; errorType?: string };
}

/** The few fields of a payload an operator needs to read a delivery: names and flags, never contents. */
function summarize(payload: unknown): DeliveryView['summary'] {
  const body = (payload && typeof payload === 'object' ? payload : {}) as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' ? value.slice(0, 200) : undefined);
  const error = body.error && typeof body.error === 'object' ? (body.error as Record<string, unknown>) : undefined;
  const summary: DeliveryView['summary'] = {
    operation: text(body.operation),
    success: typeof body.success === 'boolean' ? body.success : undefined,
    syncName: text(body.syncName),
    model: text(body.model),
    errorType: text(error?.type),
  };
  return Object.fromEntries(Object.entries(summary).filter(([, value]) => value !== undefined));
}

/**
 * Recent deliveries, newest first, for operators; `status` (webhook_events_status_idx) and `type`
 * narrow them. Rejected and ignored deliveries carry their reason.
 */
export async function listDeliveries(
  db: DbOrTx,
  filter: { status?: (typeof webhookStatuses)[number]; type?: string },
  page: { limit: number; cursor?: string },
): Promise<{ data: DeliveryView[]; nextCursor: string | null }> {
  const position = page.cursor ? decodeKeyset(page.cursor) : null;
  const rows = await db
    .select({
      id: webhookEvents.id,
      type: webhookEvents.type,
      status: webhookEvents.status,
      error: webhookEvents.error,
      nangoConnectionId: webhookEvents.nangoConnectionId,
      providerConfigKey: webhookEvents.providerConfigKey,
      receivedAt: webhookEvents.receivedAt,
      // The summary's fields only: the payload itself stays in the database.
      payload: sql<unknown>`jsonb_build_object('operation', ${webhookEvents.payload}->'operation', 'success', ${webhookEvents.payload}->'success',
        'syncName', ${webhookEvents.payload}->'syncName', 'model', ${webhookEvents.payload}->'model', 'error', ${webhookEvents.payload}->'error')`,
      keysetTime: keysetTime(webhookEvents.receivedAt),
    })
    .from(webhookEvents)
    .where(
      and(
        filter.status === undefined ? undefined : eq(webhookEvents.status, filter.status),
        filter.type === undefined ? undefined : eq(webhookEvents.type, filter.type),
        position ? sql`(${webhookEvents.receivedAt}, ${webhookEvents.id}) < (${position.t}::timestamptz, ${position.i})` : undefined,
      ),
    )
    // The same order either way (both columns are NOT NULL), spelled as each index is: the filtered list reads
    // webhook_events_status_idx (received_at DESC NULLS LAST), the unfiltered one webhook_events_received_idx
    // backwards (DESC NULLS FIRST); the other spelling makes the planner sort every delivery.
    .orderBy(
      ...(filter.status === undefined
        ? [desc(webhookEvents.receivedAt), desc(webhookEvents.id)]
        : [sql`${webhookEvents.receivedAt} DESC NULLS LAST`, sql`${webhookEvents.id} DESC NULLS LAST`]),
    )
    .limit(page.limit + 1);
  return toPage(rows, page.limit, ({ payload, keysetTime: _position, ...row }) => ({ ...row, summary: summarize(payload) }));
}
