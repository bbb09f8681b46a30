import { loadCursor, saveCursorIfUnchanged } from '../state';
import type { RunTotals, StreamSync, SyncContext, SyncOutcome, SyncPage, SyncProgress } from './types';

/**
 * Runs one provider's sync of one stream until it is caught up or its time budget is used:
 *
 * 1. Claimed again past its deadline (in the pass that just checkpointed it), it returns `too_late`
 *    (the job waits for the next pass) instead of starting a page that the pass's end would abort.
 * 2. Loads the stream's cursor, validated by the provider's schema (one it cannot read: start afresh).
 * 3. Asks the provider where this run starts (`start`), then for page after page (`walk.next`); before
 *    each but the first, past the deadline, it checkpoints: the cursor is already saved, and the job
 *    continues from it in a follow-up run.
 * 4. Stores each page's records and its cursor in one transaction, the cursor by compare-and-set on
 *    what this run last read or wrote, so a page is never lost nor applied twice, and a runner whose
 *    lease lapsed cannot move the cursor under the one that took over (a conflict rolls the page back).
 * 5. Writes the job's progress after each page.
 */
export async function runSync<C, R>(
  sync: StreamSync<C, R>,
  context: SyncContext,
  reportProgress: (progress: SyncProgress) => Promise<void>,
): Promise<SyncOutcome> {
  const { db, connection, stream, logger } = context;
  if (context.outOfTime()) return { status: 'too_late' };
  const stored = await loadCursor(db, connection.id, stream, sync.cursor);
  if (stored.unreadable) logger.warn('stored cursor unreadable (older format?): starting the stream afresh');
  /** What sync_states holds: every save is conditional on it. */
  let expected = stored.raw;
  const walk = await sync.start(context, stored.cursor ?? sync.initialCursor);
  logger.info({ mode: context.payload.mode, ...walk.describe() }, 'sync starting');

  const run: RunTotals = { pages: 0, records: 0 };
  const storePage = async (page: SyncPage<C, R>): Promise<void> => {
    let records = 0;
    if (page.records !== null) {
      records = await db.transaction(async (tx) => {
        const stored = await sync.store(tx, context, page.records as R);
        await saveCursorIfUnchanged(tx, connection.id, stream, expected, page.cursor);
        return stored;
      });
      expected = page.cursor;
    } else if (page.cursor !== walk.cursor) {
      await saveCursorIfUnchanged(db, connection.id, stream, expected, page.cursor);
      expected = page.cursor;
    }
    walk.cursor = page.cursor;
    run.pages += 1;
    run.records += records;
    if (page.progress) await reportProgress(page.progress(run));
  };

  // At least one step per run (it started within its budget), so every run moves the stream on.
  for (let steps = 0; ; steps += 1) {
    if (steps > 0 && context.outOfTime()) {
      logger.info({ ...run, ...walk.describe() }, 'sync checkpointed: time budget used');
      return { status: 'checkpoint', records: run.records };
    }
    const next = await walk.next();
    let last = false;
    for await (const page of isPages(next) ? next : [next]) {
      await storePage(page);
      last ||= page.last === true;
    }
    if (last) {
      logger.info({ ...run, ...walk.describe() }, 'sync done');
      return { status: 'done', records: run.records };
    }
  }
}

function isPages<C, R>(next: SyncPage<C, R> | AsyncIterable<SyncPage<C, R>>): next is AsyncIterable<SyncPage<C, R>> {
  return Symbol.asyncIterator in next;
}
