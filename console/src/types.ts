/** What the admin endpoints answer (api/admin; the OpenAPI document at /api/openapi.json has them in full). */

export interface Summary {
  health: { status: 'ok' | 'failing'; checks: Array<{ name: string; ok: boolean; detail?: string }> };
  queue: {
    depth: Array<{ kind: string; status: string; jobs: number }>;
    queued: number;
    runnable: number;
    running: number;
    dead: number;
    oldestRunnableAgeSeconds: number | null;
    runningByUser: Array<{ userId: string; running: number }>;
    lastHour: { succeeded: number; failed: number; dead: number; cancelled: number };
  };
  syncs: {
    failing: number;
    failingStreams: Array<{
      connectionId: number;
      userId: string | null;
      provider: string | null;
      stream: string;
      lastError: string | null;
      lastErrorAt: string | null;
      lastSuccessAt: string | null;
    }>;
  };
  connections: { active: number; paused: number; error: number };
}

export interface Job {
  id: number;
  kind: string;
  userId: string;
  payload: unknown;
  status: string;
  priority: number;
  runAt: string;
  attempts: number;
  maxAttempts: number;
  lockedBy: string | null;
  lockedUntil: string | null;
  lastError: string | null;
  dedupeKey: string | null;
  progress: unknown;
  result?: unknown;
  startedAt?: string | null;
  finishedAt?: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface SyncProgress {
  phase?: string;
  pages?: number;
  records?: number;
  estimatedTotal?: number | null;
  detail?: string;
}

export interface StreamState {
  stream: string;
  cursorSavedAt: string | null;
  cursorAgeSeconds: number | null;
  lastSuccessAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  job: null | { id: number; status: string; mode?: string; attempts: number; progress: SyncProgress | null; startedAt: string | null; lastError: string | null };
}

export interface Connection {
  id: number;
  userId: string;
  provider: string;
  connectionId: string;
  status: string;
  lastError: string | null;
  lastSyncedAt: string | null;
  createdAt: string;
  streams: StreamState[];
}

export interface WebhookDelivery {
  id: number;
  type: string;
  status: string;
  error: string | null;
  nangoConnectionId: string | null;
  providerConfigKey: string | null;
  receivedAt: string;
  summary: { operation?: string; success?: boolean; syncName?: string; model?: string } | null;
}

export interface Unit {
  id: number;
  userId: string;
  name: string;
  prompt: string;
  status: string;
  statusReason: string | null;
  activatedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Run {
  id: number;
  unitId: number;
  /** In a run's detail. */
  unitName?: string;
  userId: string;
  eventId: number | null;
  eventType: string | null;
  status: string;
  error: string | null;
  facts: unknown;
  startedAt: string | null;
  finishedAt: string | null;
  createdAt: string;
}

export interface Step {
  index: number;
  tool: string;
  input: unknown;
  output: unknown;
  status: string;
  actionId: number | null;
  error: unknown;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
}
