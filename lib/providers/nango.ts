import { Nango } from '@nangohq/node';
import { z } from 'zod';
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

/**
 * A Nango connection id: the characters Nango's API accepts for one (its server validates
 * `[a-zA-Z0-9,.;:=+~[]|@${}"'\\/_ -]`, up to 255), minus the two ids that are path segments of their
 * own (`.` and `..`: a URL resolves them away whatever their encoding). The id goes into the path of
 * Nango's URL percent-encoded (nangoPathSegment), so `/`, `?` or `#` in it address nothing else.
 */
export const nangoConnectionId = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9,.;:=+~[\]|@${}"'\\/_ -]+$/, 'expected a Nango connection id (letters, digits and ,.;:=+~[]|@${}"\'\\/_- or space)')
  .refine((id) => id !== '.' && id !== '..', 'expected a Nango connection id, not a dot segment');

/** The id as one path segment of a Nango URL. */
export function nangoPathSegment(connectionId: string): string {
  if (!nangoConnectionId.safeParse(connectionId).success) {
    throw new DomainError('validation_failed', 'not a Nango connection id', [{ path: 'connectionId', message: 'not a Nango connection id' }]);
  }
  return encodeURIComponent(connectionId);
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
  // The Node client puts the id into the URL's path as given: it must arrive encoded.
  const segment = nangoPathSegment(connectionId);
  try {
    const connection = (await nango().getConnection(providerConfigKey, segment, options.forceRefresh)) as {
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

/**
 * Deletes a connection at Nango, and so the tokens it holds (a user's erasure). Resolves false when
 * Nango no longer has it, so an erasure that is repeated goes through; anything else Nango answers
 * is 'dependency_unavailable'.
 */
export async function deleteNangoConnection(providerConfigKey: string, connectionId: string): Promise<boolean> {
  try {
    await nango().deleteConnection(providerConfigKey, nangoPathSegment(connectionId));
    return true;
  } catch (error) {
    const status = (error as { response?: { status?: number }; status?: number }).response?.status ??
      (error as { status?: number }).status;
    if (status === 404) return false;
    if (error instanceof DomainError) throw error;
    throw new DomainError('dependency_unavailable', 'Nango could not be reached to delete the connection');
  }
}
