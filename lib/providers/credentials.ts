import type { Connection } from '../../db/schema';
import { getNangoConnection } from './nango';

/**
 * A connection's credentials, from Nango. `refresh()` asks Nango to refresh the token (force_refresh),
 * which a 401 from the provider calls for once before the request is tried again.
 */
export class ConnectionCredentials {
  private current: Promise<{ accessToken: string; instanceUrl: string | null }> | undefined;

  constructor(private readonly connection: Pick<Connection, 'providerConfigKey' | 'nangoConnectionId'>) {}

  get(): Promise<{ accessToken: string; instanceUrl: string | null }> {
    this.current ??= this.load(false);
    return this.current;
  }

  refresh(): Promise<{ accessToken: string; instanceUrl: string | null }> {
    this.current = this.load(true);
    return this.current;
  }

  private async load(forceRefresh: boolean) {
    const info = await getNangoConnection(this.connection.providerConfigKey, this.connection.nangoConnectionId, { forceRefresh });
    if (!info.accessToken) throw new Error('Nango returned no access token for the connection');
    return { accessToken: info.accessToken, instanceUrl: info.instanceUrl };
  }
}
