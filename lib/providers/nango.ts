import { Nango } from '@nangohq/node';
import { config } from '../config';
import { DomainError } from '../errors';

let client: Nango | undefined;

/** The Nango client (NANGO_HOST, NANGO_SECRET_KEY, NANGO_WEBHOOK_SIGNING_KEY). */
export function nango(): Nango {
  if (!client) {
    const settings = config();
    if (!settings.NANGO_SECRET_KEY) {
      throw new DomainError('dependency_unavailable', 'Nango is not configured (NANGO_SECRET_KEY)');
    }
    client = new Nango({
      host: settings.NANGO_HOST,
      secretKey: settings.NANGO_SECRET_KEY,
      ...(settings.NANGO_WEBHOOK_SIGNING_KEY ? { webhookSigningKey: settings.NANGO_WEBHOOK_SIGNING_KEY } : {}),
    });
  }
  return client;
}

/** For tests that change the configuration between cases. */
export function resetNangoForTests(): void {
  client = undefined;
}

export interface NangoConnectionInfo {
  accessToken: string | null;
  /** Salesforce's instance URL, from the connection config. */
  instanceUrl: string | null;
  endUserId: string | null;
}

/**
 * Reads a connection from Nango. Unknown connections are a DomainError('not_found'); Nango being down
 * is 'dependency_unavailable'.
 */
export async function getNangoConnection(
  providerConfigKey: string,
  connectionId: string,
  options: { forceRefresh?: boolean } = {},
): Promise<NangoConnectionInfo> {
  try {
    const connection = (await nango().getConnection(providerConfigKey, connectionId, options.forceRefresh)) as {
      credentials?: { access_token?: string };
      connection_config?: { instance_url?: string };
      end_user?: { id?: string } | null;
      tags?: Record<string, string> | null;
    };
    return {
      accessToken: connection.credentials?.access_token ?? null,
      instanceUrl: connection.connection_config?.instance_url ?? null,
      endUserId: connection.end_user?.id ?? connection.tags?.end_user_id ?? null,
    };
  } catch (error) {
    const status = (error as { response?: { status?: number }; status?: number }).response?.status ??
      (error as { status?: number }).status;
    if (status === 404 || status === 400) {
      throw new DomainError('not_found', `Nango has no connection "${connectionId}" for ${providerConfigKey}`);
    }
    if (error instanceof DomainError) throw error;
    throw new DomainError('dependency_unavailable', 'Nango could not be reached');
  }
}
