// What a running sandbox offers its callers (tests, benchmarks, the control API): kept apart from the
// server that builds it, so that the control routes can name it without importing the server.
import type { Hono } from 'hono';
import type { CalendarStore } from './calendar/store';
import type { Provider } from './errors';
import type { FaultCounters, Faults } from './faults';
import type { FirebaseIssuer, MintOptions } from './firebase';
import type { GmailStore } from './gmail/store';
import type { TriggeredSync, WebhookSignatureHeaders } from './nango';
import type { QuotaLedger, UserUsage } from './quotas';
import type { SalesforceStore } from './salesforce/store';
import type { ConnectionKind, ConnectionRegistry } from './tokens';

export interface SandboxOptions {
  /** 0 = random free port. */
  port?: number;
  /** Bind address; default 127.0.0.1. */
  hostname?: string;
  /** Seed of every generated data set and of fault decisions; default 1. */
  seed?: number;
  webhookSigningKey: string;
  /** When set, the Nango API requires `Authorization: Bearer <nangoSecretKey>`. */
  nangoSecretKey?: string;
  firebaseProjectId: string;
  /** Gmail history records kept per mailbox (default 1000). */
  historyKeep?: number;
  /** "Now" for generated data (default: the start time). */
  anchorTime?: number;
  /** Clock for quotas, token expiry and new mail (default Date.now). */
  clock?: () => number;
}

export interface SandboxSizes {
  gmailThreads?: number;
  calendarEvents?: number;
  leads?: number;
  contacts?: number;
  accounts?: number;
  opportunities?: number;
}

export interface SandboxUser {
  userId: string;
  email: string;
  displayName: string;
  connectionIds: Record<ConnectionKind, string>;
}

export interface WebhookDelivery {
  url: string;
  body: string;
  status: number | null;
  error?: string;
  at: string;
}

export interface Sandbox {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly seed: number;
  close(): Promise<void>;
  /** Deterministic from seed + userId; idempotent (sizes apply on first call). */
  ensureUser(userId: string, sizes?: SandboxSizes): SandboxUser;
  connectionIds(userId: string): Record<ConnectionKind, string>;
  mintIdToken(sub: string, opts?: MintOptions): Promise<string>;
  signWebhook(rawBody: string): WebhookSignatureHeaders;
  /** Serialises with sorted keys, signs, POSTs. */
  sendWebhook(targetUrl: string, payload: object): Promise<Response>;
  setFaults(provider: Provider, faults: Faults): void;
  getFaults(provider: Provider): Faults;
  faultStats(provider: Provider): FaultCounters;
  /** Invalidates the provider's access tokens (all providers when omitted). */
  expireTokens(provider?: Provider): void;
  /** The access token Nango would hand out now for the user's connection. */
  accessToken(userId: string, kind: ConnectionKind): string;
  quotaUsage(): Record<string, UserUsage>;
  quotaUsage(userId: string): UserUsage;
  readonly gmail: GmailStore;
  readonly calendar: CalendarStore;
  readonly salesforce: SalesforceStore;
  readonly connections: ConnectionRegistry;
  readonly quotas: QuotaLedger;
  readonly firebase: FirebaseIssuer;
  readonly webhookLog: WebhookDelivery[];
  readonly triggeredSyncs: TriggeredSync[];
  /** The Hono app, for in-process requests (`sandbox.app.request(...)`). */
  readonly app: Hono<{ Variables: { account: string } }>;
}
