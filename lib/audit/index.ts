import { and, desc, eq, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { DbOrTx } from '../../db/client';
import { auditLog } from '../../db/schema';
import { decodeKeyset, keysetTime, pageQuerySchema, toPage } from '../pagination';

/**
 * The audit log of sensitive operations: who (actor), on whose data (user), what (action, target),
 * from where (request id, IP) and when. Append-only; the one writer is `recordAudit`, called in the
 * same transaction as the operation where there is one, so an operation and its entry commit together.
 */

export const AUDIT_ACTIONS = [
  'connection.created',
  'connection.deleted',
  'unit.created',
  'unit.updated',
  'unit.deleted',
  'api_key.created',
  'api_key.revoked',
  'admin.job_retried',
  'admin.job_cancelled',
  'admin.jobs_retried',
  'admin.jobs_cancelled',
  'admin.connection_paused',
  'admin.connection_resumed',
  'admin.connection_synced',
  'admin.unit_status_changed',
  'user.exported',
  'user.erased',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** GET /api/audit: a caller's own entries (`action`), or an operator's view of anyone's (`userId` too). */
export const auditOwnQuery = pageQuerySchema.extend({ action: z.enum(AUDIT_ACTIONS).optional() });
export const auditAdminQuery = auditOwnQuery.extend({ userId: z.string().min(1).max(128).optional() });

export type ActorType = 'user' | 'api_key' | 'admin' | 'system';

export interface AuditOrigin {
  requestId: string | null;
  ip: string | null;
}

export interface AuditEntry extends Partial<AuditOrigin> {
  action: AuditAction;
  /** Whose data the operation touched; null when it is no one's. */
  userId: string | null;
  actor: { type: ActorType; id?: string | null };
  target?: { type: string; id: string | number };
  /** Identifiers and counts only: never contents, tokens or addresses. */
  details?: Record<string, unknown>;
}

/** Records one entry. Pass the transaction of the operation it records. */
export async function recordAudit(db: DbOrTx, entry: AuditEntry): Promise<void> {
  await db.insert(auditLog).values({
    userId: entry.userId,
    actorType: entry.actor.type,
    actorId: entry.actor.id ?? null,
    action: entry.action,
    targetType: entry.target?.type ?? null,
    targetId: entry.target === undefined ? null : String(entry.target.id),
    requestId: entry.requestId ?? null,
    ip: entry.ip ?? null,
    details: entry.details ?? {},
  });
}

/**
 * Where a request came from: its request id and the client's address, as the platform reports it
 * (Vercel, and dev/server.ts, set x-real-ip and x-forwarded-for themselves, over a client's own).
 */
export function auditOrigin(request: Request, requestId: string): AuditOrigin {
  const reported = request.headers.get('x-real-ip') ?? request.headers.get('x-forwarded-for')?.split(',')[0];
  const ip = reported?.trim() || null;
  return { requestId, ip: ip && /^[0-9A-Fa-f:.]{2,45}$/.test(ip) ? ip : null };
}

/** Who acted, from how the caller authenticated: the person (Firebase) or one of their API keys. */
export function auditActor(caller: { userId: string; via: 'firebase' | 'api_key'; apiKeyId?: number }): AuditEntry['actor'] {
  return caller.via === 'api_key' ? { type: 'api_key', id: String(caller.apiKeyId ?? caller.userId) } : { type: 'user', id: caller.userId };
}

/** The who, whose and where of an entry for a request of an authenticated caller (authedRoute). */
export function requestAudit(
  request: Request,
  context: { requestId: string; caller: { userId: string; via: 'firebase' | 'api_key'; apiKeyId?: number } },
): Pick<AuditEntry, 'userId' | 'actor' | 'requestId' | 'ip'> {
  return { userId: context.caller.userId, actor: auditActor(context.caller), ...auditOrigin(request, context.requestId) };
}

export interface AuditView {
  id: number;
  occurredAt: Date;
  userId: string | null;
  actorType: string;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  requestId: string | null;
  ip: string | null;
  details: unknown;
}

/**
 * Entries newest first: one user's (`userId`), or everyone's (admins). `action` narrows to one kind.
 */
export async function listAudit(
  db: DbOrTx,
  query: { userId?: string; action?: AuditAction; limit: number; cursor?: string },
): Promise<{ data: AuditView[]; nextCursor: string | null }> {
  const position = query.cursor ? decodeKeyset(query.cursor) : null;
  const conditions: (SQL | undefined)[] = [
    query.userId === undefined ? undefined : eq(auditLog.userId, query.userId),
    query.action === undefined ? undefined : eq(auditLog.action, query.action),
    position ? sql`(${auditLog.occurredAt}, ${auditLog.id}) < (${position.t}::timestamptz, ${position.i})` : undefined,
  ];
  const rows = await db
    .select({
      id: auditLog.id,
      occurredAt: auditLog.occurredAt,
      userId: auditLog.userId,
      actorType: auditLog.actorType,
      actorId: auditLog.actorId,
      action: auditLog.action,
      targetType: auditLog.targetType,
      targetId: auditLog.targetId,
      requestId: auditLog.requestId,
      ip: auditLog.ip,
      details: auditLog.details,
      keysetTime: keysetTime(auditLog.occurredAt),
    })
    .from(auditLog)
    .where(and(...conditions))
    .orderBy(desc(auditLog.occurredAt), desc(auditLog.id))
    .limit(query.limit + 1);
  return toPage(rows, query.limit, ({ keysetTime: _position, ...view }) => view);
}
