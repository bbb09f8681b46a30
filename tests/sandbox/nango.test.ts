import { Nango } from '@nangohq/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../dev/sandbox/index';
import { NANGO_SECRET, failure, gmailClient, startTestSandbox } from '../helpers/sandbox';

let sandbox: Sandbox;
let nango: Nango;

beforeAll(async () => {
  sandbox = await startTestSandbox();
  sandbox.ensureUser('alice', { gmailThreads: 20, calendarEvents: 5, leads: 5, contacts: 5, accounts: 5, opportunities: 5 });
  sandbox.ensureUser('bob', { gmailThreads: 5 });
  nango = new Nango({ host: sandbox.url, secretKey: NANGO_SECRET });
});
afterAll(() => sandbox.close());

describe('Nango API with the real @nangohq/node client', () => {
  it('returns an OAuth2 connection with end user, tags and a working access token', async () => {
    const ids = sandbox.connectionIds('alice');
    expect(ids).toEqual({ gmail: 'gmail-alice', calendar: 'calendar-alice', salesforce: 'salesforce-alice' });
    const conn = (await nango.getConnection('google-mail', ids.gmail)) as any;
    expect(conn.connection_id).toBe('gmail-alice');
    expect(conn.provider_config_key).toBe('google-mail');
    expect(conn.end_user.id).toBe('alice');
    expect(conn.tags.end_user_id).toBe('alice');
    expect(conn.credentials.type).toBe('OAUTH2');
    expect(new Date(conn.credentials.expires_at).getTime()).toBeGreaterThan(Date.now() + 50 * 60_000);
    expect(conn.credentials.raw.access_token).toBe(conn.credentials.access_token);
    expect(conn.credentials.refresh_token).toBeUndefined();

    const profile = await gmailClient(sandbox, conn.credentials.access_token).users.getProfile({ userId: 'me' });
    expect(profile.data.emailAddress).toBe(sandbox.ensureUser('alice').email);
    // asking again without force returns the same token
    const again = (await nango.getConnection('google-mail', ids.gmail)) as any;
    expect(again.credentials.access_token).toBe(conn.credentials.access_token);
  });

  it('gives Salesforce connections the sandbox as instance_url', async () => {
    const conn = (await nango.getConnection('salesforce', 'salesforce-alice')) as any;
    expect(conn.connection_config.instance_url).toBe(sandbox.url);
    expect(conn.credentials.raw.instance_url).toBe(sandbox.url);
    const res = await fetch(`${sandbox.url}/services/data/v59.0/sobjects`, {
      headers: { Authorization: `Bearer ${conn.credentials.access_token}` },
    });
    expect(res.headers.get('sforce-limit-info')).toMatch(/^api-usage=\d+\/15000$/);
  });

  it("answers Nango's errors: unknown connection, unknown integration, bad secret", async () => {
    const unknown = await failure(nango.getConnection('google-mail', 'gmail-nobody'));
    expect(unknown.status).toBe(404);
    expect(unknown.data).toEqual({ error: { code: 'not_found', message: 'Failed to find connection' } });

    const wrongKey = await failure(nango.getConnection('google-calendar', 'gmail-alice'));
    expect(wrongKey.status).toBe(404);

    const unknownIntegration = await failure(nango.getConnection('hubspot', 'gmail-alice'));
    expect(unknownIntegration.status).toBe(400);
    expect(unknownIntegration.data.error.code).toBe('unknown_provider_config');

    const badSecret = await failure(new Nango({ host: sandbox.url, secretKey: 'wrong' }).getConnection('google-mail', 'gmail-alice'));
    expect(badSecret.status).toBe(401);

    const records = await failure(nango.listRecords({ providerConfigKey: 'google-mail', connectionId: 'gmail-nobody', model: 'GmailThread' }));
    expect(records.status).toBe(404);
    expect(records.data.error.code).toBe('unknown_connection');
  });

  it('after expireTokens the old token gets 401 and a force refresh yields a working one', async () => {
    const before = (await nango.getConnection('google-mail', 'gmail-bob')) as any;
    const oldToken = before.credentials.access_token as string;
    await gmailClient(sandbox, oldToken).users.getProfile({ userId: 'me' });

    sandbox.setFaults('gmail', { expireTokens: true });
    const denied = await failure(gmailClient(sandbox, oldToken).users.getProfile({ userId: 'me' }));
    expect(denied.status).toBe(401);
    expect(denied.data.error.status).toBe('UNAUTHENTICATED');
    expect(denied.data.error.errors[0]).toMatchObject({ message: 'Invalid Credentials', reason: 'authError', location: 'Authorization' });

    const refreshed = (await nango.getConnection('google-mail', 'gmail-bob', true)) as any;
    expect(refreshed.credentials.access_token).not.toBe(oldToken);
    const ok = await gmailClient(sandbox, refreshed.credentials.access_token).users.getProfile({ userId: 'me' });
    expect(ok.status).toBe(200);

    // a forced refresh alone does not revoke the previous token (Google tokens live until they expire)
    const second = (await nango.getConnection('google-mail', 'gmail-bob', true)) as any;
    expect(second.credentials.access_token).not.toBe(refreshed.credentials.access_token);
    expect((await gmailClient(sandbox, refreshed.credentials.access_token).users.getProfile({ userId: 'me' })).status).toBe(200);
    sandbox.setFaults('gmail', {});
  });

  it('lists connections by end user and accepts sync triggers and record reads', async () => {
    const list = await nango.listConnections({ userId: 'alice' });
    expect(list.connections.map((c) => c.connection_id).sort()).toEqual(['calendar-alice', 'gmail-alice', 'salesforce-alice']);
    const all = await nango.listConnections();
    expect(all.connections.length).toBe(6);

    await nango.triggerSync('google-mail', ['gmail-threads'], 'gmail-alice');
    expect(sandbox.triggeredSyncs.at(-1)).toMatchObject({ providerConfigKey: 'google-mail', connectionId: 'gmail-alice', syncs: ['gmail-threads'] });

    const records = await nango.listRecords({ providerConfigKey: 'google-mail', connectionId: 'gmail-alice', model: 'GmailThread' });
    expect(records).toEqual({ records: [], next_cursor: null });
  });

  it('a token for one provider does not open another', async () => {
    const gmailToken = sandbox.accessToken('alice', 'gmail');
    const res = await fetch(`${sandbox.url}/calendar/v3/users/me/calendarList`, { headers: { Authorization: `Bearer ${gmailToken}` } });
    expect(res.status).toBe(403);
    const sf = await fetch(`${sandbox.url}/services/data/v59.0/sobjects`, { headers: { Authorization: `Bearer ${gmailToken}` } });
    expect(sf.status).toBe(401);
    expect(await sf.json()).toEqual([{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
  });
});
