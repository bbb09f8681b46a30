import fc from 'fast-check';
import { it } from 'vitest';
import { checkHistories, FIDELITY_RUNS, historyArb, pickNth, useFidelityApp, type FidelityModel } from './helpers/fidelity';
import * as truth from './helpers/truth-gmail';

/**
 * Gmail under random histories: new threads, replies, label changes on a message or a thread (read,
 * starred, archived, moved to spam or trash and back), messages and whole threads deleted for good,
 * interleaved with sync runs under 5xx, 429, hangs, an expired token, history too old (404), a lapsed
 * lease or a SIGKILLed runner. See tests/helpers/fidelity.ts.
 */
const sync = useFidelityApp('gmail');
const { app, query } = sync;

const SENDERS = ['Dana Scully <dana@fbi.example>', 'ops@example.com', 'billing@vendor.example', 'news@letters.example'];
const LABELS = ['INBOX', 'UNREAD', 'STARRED', 'IMPORTANT', 'TRASH', 'SPAM', 'CATEGORY_UPDATES'] as const;

type Change =
  | { kind: 'newThread'; from: number; subject: string }
  | { kind: 'reply'; thread: number; from: number }
  | { kind: 'relabelMessage'; message: number; add: string[]; remove: string[] }
  | { kind: 'relabelThread'; thread: number; add: string[]; remove: string[] }
  | { kind: 'deleteMessage'; message: number }
  | { kind: 'deleteThread'; thread: number };

const labels = fc.subarray([...LABELS], { maxLength: 2 });
const newThread = fc.record({ kind: fc.constant('newThread' as const), from: fc.nat(SENDERS.length - 1), subject: fc.constantFrom('Lunch?', 'Invoice 4411', 'Weekly report', 'Re: plans') });
const change: fc.Arbitrary<Change> = fc.oneof(
  newThread,
  fc.record({ kind: fc.constant('reply' as const), thread: fc.nat(), from: fc.nat(SENDERS.length - 1) }),
  fc.record({ kind: fc.constant('relabelMessage' as const), message: fc.nat(), add: labels, remove: labels }),
  fc.record({ kind: fc.constant('relabelThread' as const), thread: fc.nat(), add: labels, remove: labels }),
  fc.record({ kind: fc.constant('deleteMessage' as const), message: fc.nat() }),
  fc.record({ kind: fc.constant('deleteThread' as const), thread: fc.nat() }),
);

const model: FidelityModel<Change> = {
  provider: 'gmail',
  apply(userId, c) {
    const gmail = app.sandbox.gmail;
    const threads = truth.sandboxThreadIds(app.sandbox, userId).sort();
    const messages = truth.sandboxSnapshot(app.sandbox, userId, threads).map((line) => line.split('|')[1]!);
    switch (c.kind) {
      case 'newThread':
        gmail.addMessage(userId, { from: SENDERS[c.from]!, subject: c.subject, text: `About ${c.subject}.` });
        return;
      case 'reply': {
        const thread = pickNth(threads, c.thread);
        if (thread) gmail.addMessage(userId, { from: SENDERS[c.from]!, threadId: thread, text: 'Sounds good.' });
        return;
      }
      case 'relabelMessage': {
        const message = pickNth(messages, c.message);
        if (message) gmail.modifyMessage(userId, message, c.add, c.remove.filter((l) => !c.add.includes(l)));
        return;
      }
      case 'relabelThread': {
        const thread = pickNth(threads, c.thread);
        if (thread) gmail.modifyThread(userId, thread, c.add, c.remove.filter((l) => !c.add.includes(l)));
        return;
      }
      case 'deleteMessage': {
        const message = pickNth(messages, c.message);
        if (message) gmail.deleteMessage(userId, message);
        return;
      }
      case 'deleteThread': {
        const thread = pickNth(threads, c.thread);
        if (thread) for (const m of gmail.getThread(userId, thread, 'minimal').messages) gmail.deleteMessage(userId, m.id);
        return;
      }
    }
  },
  staleCursor: (userId) => app.sandbox.gmail.expireHistory(userId),
  truth(userId) {
    const threads = truth.sandboxThreadIds(app.sandbox, userId);
    return { threads: truth.sandboxThreadSummaries(app.sandbox, userId), messages: truth.sandboxSnapshot(app.sandbox, userId, threads) };
  },
  async stored(connectionId) {
    return { threads: await truth.storedThreadSummaries(query, connectionId), messages: await truth.storedSnapshot(query, connectionId) };
  },
};

it(`gmail: ${FIDELITY_RUNS} random histories of mail changes, sync runs and faults end with the tables equal to the mailbox`, { timeout: 60_000 + FIDELITY_RUNS * 3_000 }, async () => {
  await checkHistories(sync, model, historyArb(fc.array(newThread, { maxLength: 4 }), change, { staleCursor: true }));
});
