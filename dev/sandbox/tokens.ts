// Nango connections and the opaque access tokens they hand out.
// A token maps to (connection, generation); `expire()` bumps the generation so every
// token issued before stops working until the client asks Nango for a fresh one.
import { randomBytes } from 'node:crypto';

export type ConnectionKind = 'gmail' | 'calendar' | 'salesforce';
export const CONNECTION_KINDS: readonly ConnectionKind[] = ['gmail', 'calendar', 'salesforce'];

/** Nango integration ids (provider config keys) and provider names. */
export const PROVIDER_CONFIG_KEYS: Record<ConnectionKind, string> = {
  gmail: 'google-mail',
  calendar: 'google-calendar',
  salesforce: 'salesforce',
};
export const NANGO_PROVIDERS: Record<ConnectionKind, string> = {
  gmail: 'google-mail',
  calendar: 'google-calendar',
  salesforce: 'salesforce',
};
const SCOPES: Record<ConnectionKind, string> = {
  gmail: 'https://www.googleapis.com/auth/gmail.modify https://www.googleapis.com/auth/gmail.send',
  calendar: 'https://www.googleapis.com/auth/calendar',
  salesforce: 'api refresh_token',
};

export const TOKEN_LIFETIME_SECONDS = 3600;
/** Nango refreshes a token that expires within this margin when asked for the connection. */
const REFRESH_MARGIN_MS = 5 * 60 * 1000;

export function connectionIdsFor(userId: string): Record<ConnectionKind, string> {
  return { gmail: `gmail-${userId}`, calendar: `calendar-${userId}`, salesforce: `salesforce-${userId}` };
}

export interface ConnectionRecord {
  /** Nango's numeric row id. */
  id: number;
  connectionId: string;
  kind: ConnectionKind;
  providerConfigKey: string;
  provider: string;
  userId: string;
  email: string;
  displayName: string;
  createdAt: string;
  updatedAt: string;
  lastFetchedAt: string | null;
  generation: number;
  token: IssuedToken;
}

export interface IssuedToken {
  accessToken: string;
  connectionId: string;
  generation: number;
  issuedAt: number;
  expiresAt: number;
}

export class ConnectionRegistry {
  private readonly connections = new Map<string, ConnectionRecord>();
  private readonly tokens = new Map<string, IssuedToken>();
  private nextId = 1;

  constructor(
    private readonly clock: () => number,
    /** The sandbox's base url: Salesforce's instance_url. */
    private readonly instanceUrl: () => string,
  ) {}

  /** Creates the user's three connections; idempotent. */
  ensure(userId: string, email: string, displayName: string): Record<ConnectionKind, string> {
    const ids = connectionIdsFor(userId);
    for (const kind of CONNECTION_KINDS) {
      const connectionId = ids[kind];
      if (this.connections.has(connectionId)) continue;
      const now = new Date(this.clock()).toISOString();
      const record: ConnectionRecord = {
        id: this.nextId++,
        connectionId,
        kind,
        providerConfigKey: PROVIDER_CONFIG_KEYS[kind],
        provider: NANGO_PROVIDERS[kind],
        userId,
        email,
        displayName,
        createdAt: now,
        updatedAt: now,
        lastFetchedAt: null,
        generation: 1,
        token: undefined as unknown as IssuedToken,
      };
      record.token = this.issue(record);
      this.connections.set(connectionId, record);
    }
    return ids;
  }

  get(connectionId: string): ConnectionRecord | undefined {
    return this.connections.get(connectionId);
  }

  list(): ConnectionRecord[] {
    return [...this.connections.values()];
  }

  delete(connectionId: string): boolean {
    const record = this.connections.get(connectionId);
    if (!record) return false;
    this.connections.delete(connectionId);
    record.generation++; // every token of the deleted connection dies
    return true;
  }

  /**
   * The token Nango would return now: the current one, or a fresh one when forced or when
   * the current one expires soon (as Nango refreshes on read).
   */
  currentToken(record: ConnectionRecord, forceRefresh: boolean): IssuedToken {
    const now = this.clock();
    if (forceRefresh || record.token.generation !== record.generation || record.token.expiresAt - now < REFRESH_MARGIN_MS) {
      record.token = this.issue(record);
      record.updatedAt = new Date(now).toISOString();
    }
    record.lastFetchedAt = new Date(now).toISOString();
    return record.token;
  }

  /** The connection a bearer token belongs to, if the token is still valid. */
  resolve(accessToken: string): ConnectionRecord | undefined {
    const token = this.tokens.get(accessToken);
    if (!token) return undefined;
    const record = this.connections.get(token.connectionId);
    if (!record || record.generation !== token.generation) return undefined;
    if (this.clock() >= token.expiresAt) return undefined;
    return record;
  }

  /** Invalidates every token issued so far for the given kinds (all kinds if omitted). */
  expire(kinds: readonly ConnectionKind[] = CONNECTION_KINDS): number {
    let n = 0;
    for (const record of this.connections.values()) {
      if (!kinds.includes(record.kind)) continue;
      record.generation++;
      n++;
    }
    return n;
  }

  /** Nango's `credentials` object for a connection. */
  credentials(record: ConnectionRecord, token: IssuedToken): Record<string, unknown> {
    const expiresAt = new Date(token.expiresAt).toISOString();
    const raw: Record<string, unknown> = {
      access_token: token.accessToken,
      expires_in: TOKEN_LIFETIME_SECONDS,
      scope: SCOPES[record.kind],
      token_type: 'Bearer',
    };
    if (record.kind === 'salesforce') {
      delete raw['expires_in'];
      raw['instance_url'] = this.instanceUrl();
      raw['id'] = `${this.instanceUrl()}/id/00Dsandbox0000001/005sandbox${String(record.id).padStart(8, '0')}`;
      raw['issued_at'] = String(token.issuedAt);
      raw['signature'] = randomBytes(32).toString('base64');
    }
    return { type: 'OAUTH2', access_token: token.accessToken, expires_at: expiresAt, raw };
  }

  private issue(record: ConnectionRecord): IssuedToken {
    const random = randomBytes(24).toString('base64url');
    const accessToken = record.kind === 'salesforce' ? `00DSANDBOX!AQ${random}` : `ya29.sandbox-${random}`;
    const issuedAt = this.clock();
    const token: IssuedToken = {
      accessToken,
      connectionId: record.connectionId,
      generation: record.generation,
      issuedAt,
      expiresAt: issuedAt + TOKEN_LIFETIME_SECONDS * 1000,
    };
    this.tokens.set(accessToken, token);
    return token;
  }
}
