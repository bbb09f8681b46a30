import { fork } from 'node:child_process';
import { beforeEach, describe, expect, it } from 'vitest';
import { enqueueSyncs } from '../lib/connections';
import { runner } from '../lib/worker/runner';
import { classifyMessage, classifyThread } from '../lib/sync/gmail/classify';
import { normalizeMessage } from '../lib/sync/gmail/message';
import { threadParticipants } from '../lib/sync/gmail/store';
import { useSyncTestApp } from './helpers/sync';
import * as truth from './helpers/truth-gmail';

/**
 * The Gmail sync end to end: the real runner and job handler, the real @googleapis/gmail client
 * against the sandbox's Gmail, Nango tokens from the sandbox, a real Postgres. Each case has its own
 * mailbox (user), so the sandbox's per-user quota and data do not mix.
 */
const sync = useSyncTestApp('gmail', { env: { JOBS_BACKOFF_MAX_MS: '2000' } });
const { app, query, cronPass: cron } = sync;

beforeEach(async () => {
  await query('TRUNCATE jobs, job_users');
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs cron passes until no job is queued or running (waiting out backoffs and lapsed leases). */
const settle = (timeoutMs?: number) => sync.drain(cron, timeoutMs);

/** Nango's auth webhook: the connection is recorded and its initial backfill queued. */
const connect = async (userId: string, threads: number) => ({
  id: await sync.connectByWebhook('gmail', userId, { gmailThreads: threads }),
  userId,
  provider: 'gmail' as const,
});

/** The mailbox's threads and live messages as the sandbox has them, and as the sync stored them. */
const sandboxThreadIds = (userId: string, limit?: number) => truth.sandboxThreadIds(app.sandbox, userId, limit);
const sandboxSnapshot = (userId: string, threadIds: string[]) => truth.sandboxSnapshot(app.sandbox, userId, threadIds);
const storedSnapshot = (connectionId: number) => truth.storedSnapshot(query, connectionId);

async function liveThreadIds(connectionId: number): Promise<string[]> {
  const rows = await query<{ id: string }>(
    `SELECT provider_thread_id AS id FROM email_threads WHERE connection_id = $1 AND deleted_at IS NULL`,
    [connectionId],
  );
  return rows.map((r) => r.id).sort();
}

const cursorOf = (connectionId: number) => sync.cursorOf(connectionId, 'threads');

async function eventCounts(connectionId: number): Promise<Record<string, number>> {
  const rows = await query<{ type: string; n: number }>(
    `SELECT type, count(*)::int AS n FROM events WHERE connection_id = $1 GROUP BY type`,
    [connectionId],
  );
  return Object.fromEntries(rows.map((r) => [r.type, r.n]));
}

function gmailUsage(userId: string) {
  return app.sandbox.quotaUsage(userId).gmail;
}

describe('gmail backfill', () => {
  it('stores the newest 50 threads with every message, classified, with events and timeline rows, in 53 calls', async () => {
    const connection = await connect('alice', 80);
    const profileBefore = app.sandbox.gmail.profile('alice');
    await settle();

    const expectedThreads = sandboxThreadIds('alice', 50);
    expect(expectedThreads).toHaveLength(50);
    expect(await liveThreadIds(connection.id)).toEqual([...expectedThreads].sort());
    const expected = sandboxSnapshot('alice', expectedThreads);
    expect(await storedSnapshot(connection.id)).toEqual(expected);

    // Each thread as the normaliser and classifier read Gmail's full format.
    const threads = await query(`SELECT * FROM email_threads WHERE connection_id = $1`, [connection.id]);
    const categories = new Set<string>();
    for (const row of threads) {
      const full = app.sandbox.gmail.getThread('alice', row.provider_thread_id, 'full');
      const messages = full.messages.map((m) => normalizeMessage(m as never)).sort((a, b) => a.internalDate.getTime() - b.internalDate.getTime());
      const classification = classifyThread(messages);
      categories.add(row.category);
      expect(row).toMatchObject({
        user_id: 'alice',
        subject: messages[0]!.subject,
        snippet: messages.at(-1)!.snippet,
        category: classification.category,
        category_reasons: classification.reasons,
        senders: [...new Set(messages.flatMap((m) => (m.from ? [m.from.address] : [])))].sort(),
        participants: threadParticipants(messages),
        label_ids: [...new Set(messages.flatMap((m) => m.labelIds))].sort(),
        message_count: messages.length,
        history_id: full.historyId,
        deleted_at: null,
      });
      expect(row.last_message_at.getTime()).toBe(Math.max(...messages.map((m) => m.internalDate.getTime())));
      expect(row.senders.every((s: string) => s === s.toLowerCase())).toBe(true);

      const stored = await query(`SELECT * FROM email_messages WHERE thread_id = $1 ORDER BY internal_date, provider_message_id`, [row.id]);
      expect(stored.map((m) => m.provider_message_id)).toEqual(messages.map((m) => m.providerMessageId));
      for (const [i, m] of messages.entries()) {
        expect(stored[i]).toMatchObject({
          from_address: m.from?.address ?? null,
          from_name: m.from?.name ?? null,
          to: m.to,
          cc: m.cc,
          subject: m.subject,
          snippet: m.snippet,
          body_text: m.bodyText,
          clean_body: m.cleanBody,
          quoted_text: m.quotedText,
          signature: m.signature,
          attachments: m.attachments,
          has_calendar_invite: m.hasCalendarInvite,
          category: classifyMessage(m).category,
          label_ids: [...m.labelIds].sort(),
        });
        expect(stored[i].internal_date.getTime()).toBe(m.internalDate.getTime());
      }
    }
    expect(categories.size).toBeGreaterThanOrEqual(3);
    // Attachments are recorded (name, type, size, id), never downloaded.
    const [withAttachments] = await query(`SELECT count(*)::int AS n FROM email_messages WHERE connection_id = $1 AND attachments <> '[]'`, [connection.id]);
    expect(withAttachments.n).toBeGreaterThan(0);

    // One email.received event and one timeline row per message.
    const messageIds = expected.map((line) => line.split('|')[1]).sort();
    const events = await query(`SELECT provider_id, payload FROM events WHERE connection_id = $1 AND type = 'email.received' ORDER BY provider_id`, [connection.id]);
    expect(events.map((e) => e.provider_id)).toEqual(messageIds);
    expect(events.every((e) => e.payload.syncedBy === 'backfill')).toBe(true);
    const interactions = await query(
      `SELECT i.source_id, i.kind, i.title, i.occurred_at, i.deleted_at, m.subject, m.internal_date
       FROM interactions i JOIN email_messages m ON m.provider_message_id = i.source_id AND m.connection_id = i.connection_id
       WHERE i.connection_id = $1 AND i.source = 'email' ORDER BY i.source_id`,
      [connection.id],
    );
    expect(interactions.map((i) => i.source_id)).toEqual(messageIds);
    for (const i of interactions) {
      expect(i).toMatchObject({ kind: 'email', title: i.subject, deleted_at: null });
      expect(i.occurred_at.getTime()).toBe(i.internal_date.getTime());
    }

    // The position is the historyId taken before listing; the job finished in one attempt.
    expect(await cursorOf(connection.id)).toMatchObject({ v: 1, historyId: profileBefore.historyId, completed: { reason: 'backfill' } });
    expect((await cursorOf(connection.id)).pending).toBeUndefined();
    expect(await query(`SELECT status, attempts FROM jobs`)).toEqual([{ status: 'succeeded', attempts: 1 }]);
    const [state] = await query(`SELECT last_success_at, last_error FROM sync_states WHERE connection_id = $1`, [connection.id]);
    expect(state).toMatchObject({ last_success_at: expect.any(Date), last_error: null });

    // getProfile 1 + threads.list 10 + 50 × threads.get 10 + history.list 2 (caught up at once).
    expect(gmailUsage('alice')).toMatchObject({ requests: 53, totalUnits: 513, refusals: 0 });
  });
});

describe('gmail incremental', () => {
  it('applies exactly the changes made in Gmail: new mail, a reply, a label change, deletes; events once', async () => {
    const connection = await connect('bob', 60);
    await settle();
    const held = sandboxThreadIds('bob', 50);
    const byCount = held.map((id) => ({ id, messages: app.sandbox.gmail.getThread('bob', id, 'minimal').messages }));
    const multi = byCount.filter((t) => t.messages.length >= 3);
    const single = byCount.filter((t) => t.messages.length === 1);
    expect(multi.length).toBeGreaterThanOrEqual(3);
    expect(single.length).toBeGreaterThanOrEqual(1);
    const [replyThread, trimThread] = multi as [typeof multi[0], typeof multi[0]];
    const relabelMessage = byCount
      .filter((t) => t !== replyThread && t !== trimThread)
      .flatMap((t) => t.messages)
      .find((m) => m.labelIds.includes('INBOX') && !m.labelIds.includes('STARRED') && !m.labelIds.includes('IMPORTANT'))!;
    const gone = single.find((t) => t.messages[0]!.id !== relabelMessage.id)!;
    const before = { events: await eventCounts(connection.id), usage: gmailUsage('bob') };

    const fresh = app.sandbox.gmail.addMessage('bob', { from: 'Dana Scully <Dana@FBI.example>', subject: 'Lunch on Friday?', text: 'Are you free?' });
    const reply = app.sandbox.gmail.addMessage('bob', { from: 'Fox Mulder <fox@fbi.example>', threadId: replyThread.id, text: 'Agreed.' });
    const relabelled = relabelMessage.id;
    // Added then removed again within the same history: only STARRED and INBOX change in the end.
    app.sandbox.gmail.modifyMessage('bob', relabelled, ['STARRED', 'IMPORTANT'], ['INBOX']);
    app.sandbox.gmail.modifyMessage('bob', relabelled, [], ['IMPORTANT']);
    const trimmed = trimThread.messages.at(-1)!.id;
    app.sandbox.gmail.deleteMessage('bob', trimmed);
    app.sandbox.gmail.deleteMessage('bob', gone.messages[0]!.id);

    await enqueueSyncs(app.database.db, connection, 'incremental');
    await settle();

    // The stored threads are exactly Gmail's now: the 50, less the emptied one, plus the new thread.
    const nowHeld = [...held.filter((id) => id !== gone.id), fresh.threadId];
    expect(await liveThreadIds(connection.id)).toEqual([...nowHeld].sort());
    expect(await storedSnapshot(connection.id)).toEqual(sandboxSnapshot('bob', nowHeld));

    const after = await eventCounts(connection.id);
    expect(after['email.received']).toBe(before.events['email.received']! + 2);
    expect(after['email.labels_changed'] ?? 0).toBe(1);
    expect(after['email.deleted'] ?? 0).toBe(2);
    const received = await query(`SELECT provider_id, payload FROM events WHERE connection_id = $1 AND type = 'email.received' AND payload->>'syncedBy' = 'history' ORDER BY provider_id`, [connection.id]);
    expect(received.map((e) => e.provider_id)).toEqual([fresh.id, reply.id].sort());
    expect(received.find((e) => e.provider_id === fresh.id)!.payload).toMatchObject({
      threadId: fresh.threadId,
      from: { name: 'Dana Scully', address: 'dana@fbi.example' },
      subject: 'Lunch on Friday?',
    });
    const [labelEvent] = await query(`SELECT provider_id, payload FROM events WHERE connection_id = $1 AND type = 'email.labels_changed'`, [connection.id]);
    expect(labelEvent).toMatchObject({ provider_id: relabelled, payload: { added: ['STARRED'], removed: ['INBOX'] } });
    const [relabelledRow] = await query(`SELECT label_ids FROM email_messages WHERE provider_message_id = $1`, [relabelled]);
    expect(relabelledRow.label_ids).toEqual([...relabelMessage.labelIds.filter((l) => l !== 'INBOX'), 'STARRED'].sort());

    // Thread rows follow: the reply and the delete change counts and last message; the emptied thread is deleted.
    const threadRow = async (id: string) => (await query(`SELECT * FROM email_threads WHERE connection_id = $1 AND provider_thread_id = $2`, [connection.id, id]))[0];
    expect(await threadRow(replyThread.id)).toMatchObject({ message_count: replyThread.messages.length + 1, snippet: 'Agreed.' });
    expect((await threadRow(replyThread.id)).senders).toContain('fox@fbi.example');
    const trimmedRow = await threadRow(trimThread.id);
    const trimmedLive = app.sandbox.gmail.getThread('bob', trimThread.id, 'minimal').messages;
    expect(trimmedRow.message_count).toBe(trimThread.messages.length - 1);
    expect(trimmedRow.last_message_at.getTime()).toBe(Math.max(...trimmedLive.map((m) => Number(m.internalDate))));
    expect(trimmedRow.label_ids).toEqual([...new Set(trimmedLive.flatMap((m) => m.labelIds))].sort());
    // Recomputed in SQL without a refetch, it agrees with a thread stored whole.
    const trimmedFull = app.sandbox.gmail
      .getThread('bob', trimThread.id, 'full')
      .messages.map((m) => normalizeMessage(m as never))
      .sort((x, y) => x.internalDate.getTime() - y.internalDate.getTime());
    expect(trimmedRow.participants).toEqual(threadParticipants(trimmedFull));
    expect(trimmedRow.senders).toEqual([...new Set(trimmedFull.flatMap((m) => (m.from ? [m.from.address] : [])))].sort());
    expect(trimmedRow.snippet).toBe(trimmedFull.at(-1)!.snippet);
    expect((await threadRow(gone.id)).deleted_at).toBeInstanceOf(Date);
    const deletedInteractions = await query(`SELECT source_id FROM interactions WHERE connection_id = $1 AND deleted_at IS NOT NULL ORDER BY 1`, [connection.id]);
    expect(deletedInteractions.map((i) => i.source_id)).toEqual([trimmed, gone.messages[0]!.id].sort());
    const [newInteraction] = await query(`SELECT kind, title, participants FROM interactions WHERE source_id = $1`, [fresh.id]);
    expect(newInteraction).toMatchObject({ kind: 'email', title: 'Lunch on Friday?' });
    expect(newInteraction.participants[0]).toEqual({ name: 'Dana Scully', address: 'dana@fbi.example', role: 'from' });

    // history.list 2 + threads.get 10 for the new thread and for the replied-to one; labels and deletes cost nothing more.
    const usage = gmailUsage('bob');
    expect({ requests: usage.requests - before.usage.requests, units: usage.totalUnits - before.usage.totalUnits }).toEqual({ requests: 3, units: 22 });
    expect((await cursorOf(connection.id)).historyId).toBe(app.sandbox.gmail.profile('bob').historyId);

    // Nothing new: one history.list, no event, no change.
    const snapshot = await storedSnapshot(connection.id);
    await enqueueSyncs(app.database.db, connection, 'incremental');
    await settle();
    expect(await eventCounts(connection.id)).toEqual(after);
    expect(await storedSnapshot(connection.id)).toEqual(snapshot);
    expect(gmailUsage('bob').requests).toBe(usage.requests + 1);
    expect(gmailUsage('bob').refusals).toBe(0);
  });

  it('a historyId Gmail no longer keeps (404) is recovered by a full resync of the mailbox', async () => {
    const connection = await connect('carol', 70);
    await settle();
    const held = sandboxThreadIds('carol', 50);
    // Changes while the stored position is too old to replay them: a held thread emptied, new mail.
    const emptied = held[10]!;
    for (const m of app.sandbox.gmail.getThread('carol', emptied, 'minimal').messages) app.sandbox.gmail.deleteMessage('carol', m.id);
    const fresh = app.sandbox.gmail.addMessage('carol', { from: 'ops@example.com', subject: 'Weekly report', text: 'Attached.' });
    await query(`UPDATE sync_states SET cursor = jsonb_set(cursor, '{historyId}', '"5"') WHERE connection_id = $1`, [connection.id]);
    const receivedBefore = (await eventCounts(connection.id))['email.received']!;

    await enqueueSyncs(app.database.db, connection, 'incremental');
    await settle();

    const everything = sandboxThreadIds('carol');
    expect(everything).toHaveLength(70); // 70 - 1 emptied + 1 new
    expect(everything).toContain(fresh.threadId);
    expect(await liveThreadIds(connection.id)).toEqual([...everything].sort());
    expect(await storedSnapshot(connection.id)).toEqual(sandboxSnapshot('carol', everything));
    const [emptiedRow] = await query(`SELECT deleted_at, message_count FROM email_threads WHERE provider_thread_id = $1`, [emptied]);
    expect(emptiedRow).toMatchObject({ deleted_at: expect.any(Date), message_count: 0 });
    expect(await cursorOf(connection.id)).toMatchObject({ historyId: app.sandbox.gmail.profile('carol').historyId, completed: { reason: 'history_expired' } });
    // Every message stored once: the 50 backfilled threads' messages were not received again.
    const [counts] = await query(`SELECT count(*)::int AS messages, count(DISTINCT provider_message_id)::int AS distinct_ids FROM email_messages WHERE connection_id = $1 AND deleted_at IS NULL`, [connection.id]);
    expect((await eventCounts(connection.id))['email.received']).toBe(receivedBefore + counts.messages - (sandboxSnapshot('carol', held.filter((id) => id !== emptied)).length));
    expect(counts.messages).toBe(counts.distinct_ids);
    expect(gmailUsage('carol').refusals).toBe(0);
  });

  it("a 'date_range' sync stores the window's threads and keeps the history position", async () => {
    const connection = await connect('hank', 120);
    await settle();
    const position = (await cursorOf(connection.id)).historyId;
    const all = sandboxThreadIds('hank');
    // The window: the 60th..90th newest threads' days, beyond the 50 the backfill took.
    const last = (id: string) => Math.max(...app.sandbox.gmail.getThread('hank', id, 'minimal').messages.map((m) => Number(m.internalDate)));
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const startDate = day(last(all[90]!));
    const endDate = day(last(all[60]!));
    await enqueueSyncs(app.database.db, connection, 'date_range', { startDate, endDate });
    await settle();

    const after = Math.floor(Date.parse(`${startDate}T00:00:00Z`) / 1000);
    const before = Math.ceil((Date.parse(`${endDate}T00:00:00Z`) + 86_400_000) / 1000);
    const inWindow: string[] = [];
    let pageToken: string | undefined;
    do {
      const page = app.sandbox.gmail.listThreads('hank', { q: `after:${after} before:${before}`, maxResults: 500, includeSpamTrash: true, ...(pageToken ? { pageToken } : {}) });
      inWindow.push(...(page.threads ?? []).map((t) => t.id));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(inWindow.length).toBeGreaterThan(20);
    const expected = [...new Set([...all.slice(0, 50), ...inWindow])];
    expect(await liveThreadIds(connection.id)).toEqual(expected.sort());
    expect(await storedSnapshot(connection.id)).toEqual(sandboxSnapshot('hank', expected));
    expect(await cursorOf(connection.id)).toMatchObject({ historyId: position, completed: { reason: 'date_range' } });
  });
});

describe('gmail sync under faults', () => {
  it('5xx and 429s (with Retry-After) converge to exactly the data of a fault-free run', async () => {
    const connection = await connect('dave', 90);
    await settle();
    // A fault-free full sync: the reference.
    await enqueueSyncs(app.database.db, connection, 'full');
    await settle();
    const reference = { threads: await liveThreadIds(connection.id), snapshot: await storedSnapshot(connection.id) };
    expect(reference.threads).toHaveLength(90);
    expect(reference.snapshot).toEqual(sandboxSnapshot('dave', sandboxThreadIds('dave')));

    // Start over from nothing, with faults.
    await query(`DELETE FROM email_threads WHERE connection_id = $1`, [connection.id]);
    await query(`DELETE FROM events WHERE connection_id = $1`, [connection.id]);
    await query(`DELETE FROM interactions WHERE connection_id = $1`, [connection.id]);
    await query(`DELETE FROM sync_states WHERE connection_id = $1`, [connection.id]);
    await query(`DELETE FROM jobs`);
    const faultsBefore = app.sandbox.faultStats('gmail');
    app.sandbox.setFaults('gmail', { errorRate: 0.3, rateLimitRate: 0.05, retryAfterSeconds: 1 });
    await enqueueSyncs(app.database.db, connection, 'full');
    await settle(110_000);
    app.sandbox.setFaults('gmail', {});

    const faults = app.sandbox.faultStats('gmail');
    expect(faults.errors - faultsBefore.errors).toBeGreaterThan(10);
    expect(faults.rateLimited - faultsBefore.rateLimited).toBeGreaterThan(0);
    expect(await liveThreadIds(connection.id)).toEqual(reference.threads);
    expect(await storedSnapshot(connection.id)).toEqual(reference.snapshot);
    const messages = reference.snapshot.length;
    expect(await eventCounts(connection.id)).toEqual({ 'email.received': messages });
    const [interactions] = await query(`SELECT count(*)::int AS n, count(DISTINCT source_id)::int AS d FROM interactions WHERE connection_id = $1`, [connection.id]);
    expect(interactions).toEqual({ n: messages, d: messages });
    expect(await query(`SELECT status FROM jobs`)).toEqual([{ status: 'succeeded' }]);
    expect(gmailUsage('dave').refusals).toBe(0);
  }, 120_000);

  it('an access token expired mid-sync is refreshed through Nango and the sync carries on', async () => {
    const connection = await connect('erin', 50);
    app.sandbox.setFaults('gmail', { latencyMs: 20 });
    const before = { all: app.sandbox.faultStats('gmail').requests, accepted: gmailUsage('erin').requests };
    const pass = cron();
    await until(async () => (await liveThreadIds(connection.id)).length >= 10, 20_000);
    app.sandbox.expireTokens('gmail');
    await pass;
    await settle();

    expect(await storedSnapshot(connection.id)).toEqual(sandboxSnapshot('erin', sandboxThreadIds('erin', 50)));
    const rejected = app.sandbox.faultStats('gmail').requests - before.all - (gmailUsage('erin').requests - before.accepted);
    expect(rejected).toBeGreaterThanOrEqual(1); // 401s: the sandbox refused the expired token
    expect(await query(`SELECT status, attempts FROM jobs`)).toEqual([{ status: 'succeeded', attempts: 1 }]);
    expect(await query(`SELECT status FROM connections WHERE id = $1`, [connection.id])).toEqual([{ status: 'active' }]);
    expect(gmailUsage('erin').refusals).toBe(0);
  });

  it('a user out of quota is deferred, not failed, and syncs once the quota is back', async () => {
    const connection = await connect('gina', 50);
    app.sandbox.quotas.preload('gina', 'gmail', 15_000);
    await cron();
    const [job] = await query(`SELECT status, attempts, run_at, last_error FROM jobs`);
    expect(job).toMatchObject({ status: 'queued', attempts: 0, last_error: expect.stringMatching(/^deferred: gmail refused for quota/) });
    expect(job.run_at.getTime()).toBeGreaterThan(Date.now() + 30_000);
    expect(await liveThreadIds(connection.id)).toEqual([]);

    app.sandbox.quotas.reset('gina');
    await query(`UPDATE jobs SET run_at = now()`);
    await settle();
    expect(await storedSnapshot(connection.id)).toEqual(sandboxSnapshot('gina', sandboxThreadIds('gina', 50)));
    expect(await query(`SELECT status FROM jobs`)).toEqual([{ status: 'succeeded' }]);
  });
});

describe('gmail sync interrupted', () => {
  it('checkpoints at the deadline and continues where it stopped: every thread fetched exactly once', async () => {
    const connection = await connect('ivan', 140);
    await settle();
    await query(`DELETE FROM jobs`);
    const before = gmailUsage('ivan');
    await enqueueSyncs(app.database.db, connection, 'full');
    // Passes of 3.8 s: the sync's deadline is 3 s before the pass's, so each pass works ~0.8 s (some
    // 20-40 threads: a burst, then the paced rate) then checkpoints; the next pass continues.
    let passes = 0;
    while ((await query(`SELECT 1 FROM jobs WHERE status IN ('queued', 'running')`)).length > 0) {
      await until(async () => (await query(`SELECT 1 FROM jobs WHERE status = 'queued' AND run_at <= now()`)).length > 0, 10_000);
      await runner().run({ deadline: Date.now() + 3_800 });
      passes += 1;
      expect(passes).toBeLessThan(20);
    }
    expect(passes).toBeGreaterThanOrEqual(3);
    const [job] = await query(`SELECT status, attempts FROM jobs`);
    expect(job).toEqual({ status: 'succeeded', attempts: 1 }); // checkpoints are deferrals, not attempts

    const all = sandboxThreadIds('ivan');
    expect(await storedSnapshot(connection.id)).toEqual(sandboxSnapshot('ivan', all));
    // getProfile + threads.list + 140 threads.get + history.list: nothing fetched twice.
    const usage = gmailUsage('ivan');
    expect({ requests: usage.requests - before.requests, units: usage.totalUnits - before.totalUnits }).toEqual({ requests: 143, units: 1413 });
    expect(usage.refusals).toBe(0);
  }, 90_000);

  it('a runner killed (SIGKILL) mid-sync is taken over: no duplicates, no gaps', async () => {
    const connection = await connect('judy', 160);
    await settle();
    await query(`DELETE FROM jobs`);
    await enqueueSyncs(app.database.db, connection, 'full');
    const [started] = await query<{ now: Date }>(`SELECT now()`);
    const before = gmailUsage('judy');
    app.sandbox.setFaults('gmail', { latencyMs: 30 });

    const child = fork(new URL('./fixtures/runner-child.ts', import.meta.url).pathname, ['gmail', '5'], {
      execArgv: ['--import', 'tsx'],
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const written = async () =>
      Number((await query(`SELECT count(*)::int AS n FROM email_threads WHERE connection_id = $1 AND updated_at > $2`, [connection.id, started!.now]))[0].n);
    await until(async () => (await written()) >= 40, 60_000);
    child.kill('SIGKILL');
    await exited;
    const atKill = await written();
    expect(atKill).toBeLessThan(160);
    app.sandbox.setFaults('gmail', {});

    await settle(60_000);
    const all = sandboxThreadIds('judy');
    expect(all).toHaveLength(160);
    expect(await liveThreadIds(connection.id)).toEqual([...all].sort());
    expect(await storedSnapshot(connection.id)).toEqual(sandboxSnapshot('judy', all));
    const messages = sandboxSnapshot('judy', all).length;
    expect(await eventCounts(connection.id)).toEqual({ 'email.received': messages });
    const [counts] = await query(`SELECT count(*)::int AS n, count(DISTINCT source_id)::int AS d FROM interactions WHERE connection_id = $1`, [connection.id]);
    expect(counts).toEqual({ n: messages, d: messages });
    const [job] = await query(`SELECT status, attempts FROM jobs`);
    expect(job).toEqual({ status: 'succeeded', attempts: 2 });
    // getProfile + threads.list + 160 threads.get + history.list, plus what was fetched and not stored when
    // it died: the batch being stored and the one fetched ahead, each at most a batch (25) less one plus
    // the fetches in flight (10), however slow the stores were.
    const requests = gmailUsage('judy').requests - before.requests;
    expect(requests).toBeGreaterThanOrEqual(163);
    expect(requests).toBeLessThanOrEqual(163 + 2 * (25 - 1 + 10));
    expect(gmailUsage('judy').refusals).toBe(0);
  }, 150_000);
});

async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(25);
  }
}
