import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm run demo`: the README's walk-through as one ordered script, against the running `npm start`
 * (found through .data/npm-start.lock.json, else PORT and SANDBOX_PORT). As demo-user it connects
 * Gmail, Google Calendar and Salesforce the way a frontend does, waits for their backfills, reads what
 * synced (dates relative to today), adds an email in the sandbox and watches it arrive, and makes an
 * API key. Each step prints the curl that does the same by hand.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const USER = 'demo-user';

function locate(): { api: string; sandbox: string } {
  const lock = join(root, '.data', 'npm-start.lock.json');
  if (existsSync(lock)) {
    const running = JSON.parse(readFileSync(lock, 'utf8')) as { url?: string; sandbox?: string | null };
    if (running.url && running.sandbox) return { api: running.url, sandbox: running.sandbox };
  }
  return { api: `http://127.0.0.1:${process.env.PORT ?? 3000}`, sandbox: `http://127.0.0.1:${process.env.SANDBOX_PORT ?? 4010}` };
}

const { api, sandbox } = locate();
let token = '';

function step(title: string, curl?: string) {
  console.log(`\n== ${title}`);
  if (curl) console.log(`   $ ${curl}`);
}

async function call(base: string, path: string, init: { method?: string; body?: unknown; auth?: string } = {}) {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const bearer = init.auth ?? token;
  if (base === api && bearer) headers.authorization = `Bearer ${bearer}`;
  const response = await fetch(base + path, { method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  const text = await response.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  if (response.status >= 400) throw new Error(`${init.method ?? 'GET'} ${path} answered ${response.status}: ${text.slice(0, 300)}`);
  return body;
}

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
const show = (rows: object[], pick: (row: any) => string) => rows.forEach((row) => console.log(`   - ${pick(row)}`));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  step('switchyard and its sandbox are running', `curl ${api}/api/health`);
  try {
    const health = await call(api, '/api/health');
    console.log(`   health: ${health.status}`);
  } catch (error) {
    throw new Error(`nothing answers at ${api} (${String(error)}): start it first with npm start, then run npm run demo`);
  }

  step(`a Firebase ID token for ${USER}, minted by the sandbox`, `TOKEN=$(curl -s -X POST ${sandbox}/_sandbox/firebase/token -H 'content-type: application/json' -d '{"sub":"${USER}"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).idToken')`);
  token = (await call(sandbox, '/_sandbox/firebase/token', { method: 'POST', body: { sub: USER } })).idToken;
  const user = await call(sandbox, `/_sandbox/users/${USER}`);
  console.log(`   token for ${USER} (${user.email}), valid an hour`);

  step('connect Gmail, Google Calendar and Salesforce, as the frontend does after Nango Connect');
  const jobIds: number[] = [];
  for (const provider of ['gmail', 'calendar', 'salesforce'] as const) {
    const connectionId = user.connectionIds[provider];
    console.log(`   $ curl -X POST -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"provider":"${provider}","connectionId":"${connectionId}"}' ${api}/api/connections`);
    const { connection, jobIds: queued } = await call(api, '/api/connections', { method: 'POST', body: { provider, connectionId } });
    console.log(`     connection ${connection.id} (${provider}, ${connection.status}); sync jobs ${queued.join(', ') || 'none new: already connected'}`);
    jobIds.push(...queued);
  }

  step('the backfills run at once (the POST started a runner pass); waiting for every stream', `curl -H "Authorization: Bearer $TOKEN" ${api}/api/connections`);
  const deadline = Date.now() + 120_000;
  while (true) {
    const { data } = await call(api, '/api/connections?limit=100');
    const streams = data.flatMap((c: any) => c.streams.map((s: any) => ({ provider: c.provider, ...s })));
    const synced = streams.filter((s: any) => s.lastSuccessAt);
    console.log(`   ${synced.length}/${streams.length || '?'} streams synced${streams.length ? `: ${synced.map((s: any) => `${s.provider}/${s.stream}`).join(', ')}` : ''}`);
    if (streams.length >= 6 && synced.length === streams.length) break;
    if (Date.now() > deadline) throw new Error('the backfills did not finish within 2 minutes: see the npm start terminal');
    await sleep(2_000);
  }

  step('the newest email threads', `curl -H "Authorization: Bearer $TOKEN" '${api}/api/emails?limit=3'`);
  show((await call(api, '/api/emails?limit=3')).data, (t) => `${t.lastMessageAt.slice(0, 16)}  [${t.category}] ${t.subject} — ${t.senders.join(', ')}`);

  step('billing mail of the last 30 days', `curl -H "Authorization: Bearer $TOKEN" '${api}/api/emails?category=billing&after=${day(-30)}&limit=3'`);
  show((await call(api, `/api/emails?category=billing&after=${day(-30)}&limit=3`)).data, (t) => `${t.lastMessageAt.slice(0, 10)}  ${t.subject}`);

  step('the calendar for the coming week', `curl -H "Authorization: Bearer $TOKEN" '${api}/api/calendar/events?from=${day(0)}&to=${day(7)}&limit=5'`);
  show((await call(api, `/api/calendar/events?from=${day(0)}&to=${day(7)}&limit=5`)).data, (e) => `${e.allDay ? `${e.startDate} (all day)` : e.startAt.slice(0, 16)}  ${e.summary}`);

  step('open opportunities in Salesforce', `curl -H "Authorization: Bearer $TOKEN" '${api}/api/crm/opportunity?limit=3'`);
  show((await call(api, '/api/crm/opportunity?limit=3')).data, (o) => `${o.name} — ${o.stageName ?? '?'}, ${o.amount ?? '?'}`);

  step('the unified timeline of the last week', `curl -H "Authorization: Bearer $TOKEN" '${api}/api/interactions?after=${day(-7)}&before=${day(1)}&limit=5'`);
  show((await call(api, `/api/interactions?after=${day(-7)}&before=${day(1)}&limit=5`)).data, (i) => `${i.occurredAt?.slice(0, 16)}  ${i.source}: ${i.title}`);

  const subject = `Demo invoice ${new Date().toISOString().slice(11, 19)}`;
  step(
    'a new email arrives: added in the sandbox, which sends Nango\'s sync webhook; the webhook starts the sync',
    `curl -X POST ${sandbox}/_sandbox/gmail/${USER}/messages -H 'content-type: application/json' -d '{"from":"billing@acme.example","subject":"${subject}","text":"Amount due: 42 EUR","notify":{"url":"${api}/api/webhooks/nango"}}'`,
  );
  await call(sandbox, `/_sandbox/gmail/${USER}/messages`, {
    method: 'POST',
    body: { from: 'billing@acme.example', subject, text: 'Amount due: 42 EUR', notify: { url: `${api}/api/webhooks/nango` } },
  });
  const arrived = Date.now();
  while (true) {
    const { data } = await call(api, `/api/emails?subjectContains=${encodeURIComponent(subject)}`);
    if (data.length > 0) {
      console.log(`   synced after ${((Date.now() - arrived) / 1000).toFixed(1)} s: [${data[0].category}] ${data[0].subject}`);
      break;
    }
    if (Date.now() - arrived > 60_000) throw new Error('the new email did not arrive within a minute');
    await sleep(500);
  }

  step('an API key for scripts (shown once), then used instead of the token', `curl -X POST -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"name":"demo script","scopes":["read"]}' ${api}/api/api-keys`);
  const { key, apiKey } = await call(api, '/api/api-keys', { method: 'POST', body: { name: 'demo script', scopes: ['read'], expiresInDays: 1 } });
  console.log(`   key ${apiKey.prefix}… (id ${apiKey.id}, scopes ${apiKey.scopes.join(', ')}, expires ${apiKey.expiresAt})`);
  console.log(`   $ curl -H "Authorization: Bearer ${key}" '${api}/api/interactions?limit=1'`);
  const viaKey = await call(api, '/api/interactions?limit=1', { auth: key });
  console.log(`   ${viaKey.data.length} interaction through the key; revoke it with DELETE /api/api-keys/${apiKey.id}`);
  await call(api, `/api/api-keys/${apiKey.id}`, { method: 'DELETE' });

  console.log(`\ndone: ${jobIds.length} sync job(s) queued by the connections; the sandbox's control API is in the README (faults, quotas, more mail).`);
}

main().catch((error) => {
  console.error(`\ndemo stopped: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
