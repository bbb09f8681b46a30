import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Nango } from '@nangohq/node';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FIREBASE_JWKS_PATH,
  authPayload,
  stableStringify,
  syncFailurePayload,
  syncSuccessPayload,
  type Sandbox,
} from '../../dev/sandbox/index';
import { PROJECT_ID, SIGNING_KEY, startTestSandbox } from '../helpers/sandbox';

let sandbox: Sandbox;
let receiver: Server;
let receiverUrl: string;
const received: Array<{ raw: Buffer; headers: IncomingHttpHeaders }> = [];

beforeAll(async () => {
  sandbox = await startTestSandbox();
  sandbox.ensureUser('w1', { gmailThreads: 10, calendarEvents: 5, leads: 5, contacts: 2, accounts: 2, opportunities: 2 });
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ raw: Buffer.concat(chunks), headers: req.headers });
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"accepted"}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/api/webhooks/nango`;
});
afterAll(async () => {
  await sandbox.close();
  await new Promise((r) => receiver.close(r));
});

function verify(raw: Buffer, headers: IncomingHttpHeaders) {
  const hmac = createHmac('sha256', SIGNING_KEY).update(raw).digest('hex');
  const legacy = createHash('sha256').update(Buffer.concat([Buffer.from(SIGNING_KEY), raw])).digest('hex');
  return { hmacOk: headers['x-nango-hmac-sha256'] === hmac, legacyOk: headers['x-nango-signature'] === legacy };
}

describe('Nango webhooks', () => {
  it('serialises with sorted keys and signs the exact bytes like Nango', async () => {
    const payload = { zeta: 1, alpha: { z: [3, { b: 2, a: 1 }], a: 'é ✓' }, mid: null, gone: undefined };
    const res = await sandbox.sendWebhook(receiverUrl, payload);
    expect(res.status).toBe(202);
    const got = received.at(-1)!;
    const text = got.raw.toString('utf8');
    expect(text).toBe('{"alpha":{"a":"é ✓","z":[3,{"a":1,"b":2}]},"mid":null,"zeta":1}');
    expect(text).toBe(stableStringify(payload));
    expect(got.headers['content-type']).toBe('application/json');
    expect(verify(got.raw, got.headers)).toEqual({ hmacOk: true, legacyOk: true });
    expect(sandbox.signWebhook(text)['X-Nango-Hmac-Sha256']).toBe(got.headers['x-nango-hmac-sha256']);

    // the real client's verifier agrees, and rejects a tampered body
    const nango = new Nango({ host: sandbox.url, secretKey: 'unused', webhookSigningKey: SIGNING_KEY });
    const headers = got.headers as Record<string, string>;
    expect(nango.verifyIncomingWebhookRequest(text, headers)).toBe(true);
    expect(nango.verifyIncomingWebhookRequest(text.replace('"zeta":1', '"zeta":2'), headers)).toBe(false);
    expect(new Nango({ host: sandbox.url, secretKey: 'x', webhookSigningKey: 'other-key' }).verifyIncomingWebhookRequest(text, headers)).toBe(false);
  });

  it('builds sync success, sync failure and auth payloads in Nango shape', () => {
    const ok = syncSuccessPayload({
      connectionId: 'gmail-w1',
      providerConfigKey: 'google-mail',
      syncName: 'gmail-threads',
      model: 'GmailThread',
      responseResults: { added: 2, updated: 1 },
      modifiedAfter: '2025-01-01T00:00:00.000Z',
    });
    expect(ok).toMatchObject({
      from: 'nango',
      type: 'sync',
      syncType: 'INCREMENTAL',
      success: true,
      modifiedAfter: '2025-01-01T00:00:00.000Z',
      responseResults: { added: 2, updated: 1, deleted: 0 },
    });
    const bad = syncFailurePayload({ connectionId: 'c', providerConfigKey: 'salesforce', syncName: 's', model: 'SalesforceLead', error: { type: 'script_error', description: 'boom' } });
    expect(bad.success).toBe(false);
    expect(bad.error).toEqual({ type: 'script_error', description: 'boom' });
    expect(Date.parse(bad.failedAt)).toBeGreaterThanOrEqual(Date.parse(bad.startedAt));
    const a = authPayload({ connectionId: 'gmail-w1', providerConfigKey: 'google-mail', provider: 'google-mail', operation: 'creation', endUser: { endUserId: 'w1' } });
    expect(a).toMatchObject({ type: 'auth', operation: 'creation', success: true, environment: 'dev', authMode: 'OAUTH2', endUser: { endUserId: 'w1' } });
  });

  it('control API changes send the matching signed sync webhook', async () => {
    const before = received.length;
    const res = await fetch(`${sandbox.url}/_sandbox/gmail/w1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: 'x@example.com', subject: 'ping', text: 'pong', notify: { url: receiverUrl } }),
    });
    expect(res.status).toBe(201);
    const out = (await res.json()) as { webhook: { status: number } };
    expect(out.webhook.status).toBe(202);
    expect(received.length).toBe(before + 1);
    const got = received.at(-1)!;
    expect(verify(got.raw, got.headers)).toEqual({ hmacOk: true, legacyOk: true });
    expect(JSON.parse(got.raw.toString())).toMatchObject({
      type: 'sync',
      connectionId: 'gmail-w1',
      providerConfigKey: 'google-mail',
      model: 'GmailThread',
      success: true,
      responseResults: { added: 1, updated: 0, deleted: 0 },
    });

    const any = await fetch(`${sandbox.url}/_sandbox/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiverUrl, payload: { b: 1, a: 2 } }),
    });
    expect(((await any.json()) as { status: number }).status).toBe(202);
    expect(received.at(-1)!.raw.toString()).toBe('{"a":2,"b":1}');
  });

  it('calendar moves and Salesforce edits fire their sync webhooks', async () => {
    const event = sandbox.calendar.events('w1').find((e) => e.status !== 'cancelled' && e.start?.dateTime)!;
    expect(event).toBeDefined();
    const moved = await fetch(`${sandbox.url}/_sandbox/calendar/w1/events/${event.id}/move`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ minutes: 30, notify: { url: receiverUrl } }),
    });
    expect(moved.status).toBe(200);
    const movedBody = (await moved.json()) as { event: { start: { dateTime: string } }; webhook: { status: number } };
    expect(Date.parse(movedBody.event.start.dateTime) - Date.parse(event.start!.dateTime as string)).toBe(30 * 60_000);
    expect(movedBody.webhook.status).toBe(202);
    let got = received.at(-1)!;
    expect(verify(got.raw, got.headers).hmacOk).toBe(true);
    expect(JSON.parse(got.raw.toString())).toMatchObject({ connectionId: 'calendar-w1', providerConfigKey: 'google-calendar', model: 'CalendarEvent', responseResults: { updated: 1 } });

    const leadId = sandbox.salesforce.ids('w1', 'Lead')[0]!;
    const patched = await fetch(`${sandbox.url}/_sandbox/salesforce/w1/lead/${leadId}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fields: { Status: 'Working - Contacted' }, notify: { url: receiverUrl } }),
    });
    expect(patched.status).toBe(200);
    expect(sandbox.salesforce.getRecord('w1', 'Lead', leadId)?.['Status']).toBe('Working - Contacted');
    got = received.at(-1)!;
    expect(JSON.parse(got.raw.toString())).toMatchObject({ connectionId: 'salesforce-w1', providerConfigKey: 'salesforce', model: 'SalesforceLead', syncName: 'salesforce-leads' });

    const missing = await fetch(`${sandbox.url}/_sandbox/calendar/w1/events/nosuchevent/move`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"minutes":5}' });
    expect(missing.status).toBe(404);
  });

  it('bad control bodies are refused', async () => {
    const res = await fetch(`${sandbox.url}/_sandbox/gmail/w1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"from":1}' });
    expect(res.status).toBe(400);
    const unknown = await fetch(`${sandbox.url}/_sandbox/gmail/nobody/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: 'x@example.com', text: 'y' }),
    });
    expect(unknown.status).toBe(404);
    expect((await fetch(`${sandbox.url}/_sandbox/health`)).status).toBe(200);
  });
});

describe('Firebase ID tokens', () => {
  const verifyToken = (token: string) =>
    jwtVerify(token, createRemoteJWKSet(new URL(`${sandbox.url}${FIREBASE_JWKS_PATH}`)), {
      issuer: `https://securetoken.google.com/${PROJECT_ID}`,
      audience: PROJECT_ID,
      algorithms: ['RS256'],
    });

  it('serves a JWKS at Google’s path and mints tokens that verify', async () => {
    const jwks = (await (await fetch(`${sandbox.url}${FIREBASE_JWKS_PATH}`)).json()) as { keys: Array<Record<string, string>> };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(jwks.keys[0]!['d']).toBeUndefined(); // public only

    const token = await sandbox.mintIdToken('user-123', { email: 'u@example.com' });
    const { payload, protectedHeader } = await verifyToken(token);
    expect(protectedHeader).toMatchObject({ alg: 'RS256', kid: jwks.keys[0]!['kid'] });
    expect(payload).toMatchObject({
      sub: 'user-123',
      user_id: 'user-123',
      aud: PROJECT_ID,
      iss: `https://securetoken.google.com/${PROJECT_ID}`,
      email: 'u@example.com',
      firebase: { sign_in_provider: 'password' },
    });
    expect(payload.auth_time).toBe(payload.iat);
    expect((payload.exp as number) - (payload.iat as number)).toBe(3600);

    const viaControl = (await (await fetch(`${sandbox.url}/_sandbox/firebase/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"sub":"demo"}' })).json()) as { idToken: string };
    expect((await verifyToken(viaControl.idToken)).payload.sub).toBe('demo');
  });

  it('bad variants fail verification', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expect(verifyToken(await sandbox.mintIdToken('u', { issuedAt: now - 7200, expiresInSeconds: 3600 }))).rejects.toBeInstanceOf(joseErrors.JWTExpired);
    await expect(verifyToken(await sandbox.mintIdToken('u', { audience: 'someone-else' }))).rejects.toBeInstanceOf(joseErrors.JWTClaimValidationFailed);
    await expect(verifyToken(await sandbox.mintIdToken('u', { issuer: 'https://evil.example' }))).rejects.toBeInstanceOf(joseErrors.JWTClaimValidationFailed);
    await expect(verifyToken(await sandbox.mintIdToken('u', { unknownKey: true }))).rejects.toBeInstanceOf(joseErrors.JWKSNoMatchingKey);
    // a valid header with a forged signature
    const good = await sandbox.mintIdToken('u');
    const [h, p] = good.split('.');
    const forged = `${h}.${p}.${Buffer.from('x'.repeat(256)).toString('base64url')}`;
    await expect(verifyToken(forged)).rejects.toBeInstanceOf(joseErrors.JWSSignatureVerificationFailed);
  });
});
