import type { Connection } from '../../db/schema';
import { getNangoConnection } from './nango';

export interface Credentials {
  accessToken: string;
  /** Salesforce's instance URL. */
  instanceUrl: string | null;
}

/**
 * A connection's credentials, from Nango. A 401 from the provider calls for one refresh through Nango
 * (force_refresh); the requests in flight with the same rejected token share that one refresh.
 */
export class ConnectionCredentials {
  private current: Promise<Credentials> | undefined;

  constructor(private readonly connection: Pick<Connection, 'providerConfigKey' | 'nangoConnectionId'>) {}

  get(): Promise<Credentials> {
    this.current ??= this.remember(this.load(false));
    return this.current;
  }

  /** Refreshes unless the token that was refused has already been replaced (or is being replaced). */
  async refresh(refused: string): Promise<Credentials> {
    const current = await this.get().catch(() => undefined);
    if (current && current.accessToken !== refused) return current;
    if (!this.refreshing) {
      this.refreshing = this.remember(this.load(true)).finally(() => {
        this.refreshing = undefined;
      });
      this.current = this.refreshing;
    }
    return this.refreshing;
  }

  private refreshing: Promise<Credentials> | undefined;

  /** A failed load is not kept: the next request asks Nango again. */
  private remember(loading: Promise<Credentials>): Promise<Credentials> {
    return loading.catch((error) => {
      this.current = undefined;
      throw error;
    });
  }

  private async load(forceRefresh: boolean): Promise<Credentials> {
    const info = await getNangoConnection(this.connection.providerConfigKey, this.connection.nangoConnectionId, { forceRefresh });
    if (!info.accessToken) throw new Error('Nango returned no access token for the connection');
    return { accessToken: info.accessToken, instanceUrl: info.instanceUrl };
  }
}
