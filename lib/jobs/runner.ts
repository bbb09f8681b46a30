import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Logger } from 'pino';
import type { Db } from '../../db/client';
import { isLostRace } from '../../db/errors';
import { DeferJobError, PermanentJobError } from './errors';
import type { QueuedJob } from './job';
import { claim, claimable } from './sql/claim';
import { heartbeat, reclaimExpired, setProgress } from './sql/lease';
import { settleAndHandOff, type Settlement } from './sql/settle';

/** Why a handler's signal was aborted. */
export type AbortReason = 'deadline' | 'cancelled' | 'lease_lost';

export interface JobContext {
  job: QueuedJob;
  /** The database this runner claimed the job from: handlers use it, never a process-wide one. */
  db: Db;
  /** Aborted when the pass reaches its deadline, the job is cancelled, or its lease is lost; see `signal.reason`. */
  signal: AbortSignal;
  /** Milliseconds until the pass's deadline. */
  timeLeftMs(): number;
  /** Replaces the job's progress document (fenced: a runner that lost the lease changes nothing). */
  progress(progress: unknown): Promise<void>;
  logger: Logger;
}

export type HandlerResult =
  | void
  | undefined
  | { status: 'succeeded'; result?: unknown }
  | { status: 'deferred'; until: Date; reason: string };

export interface JobHandler<P = unknown> {
  /** Validates the payload; a job whose payload fails it is dead at once with the reason. */
  payload: z.ZodType<P>;
  run(payload: P, context: JobContext): Promise<HandlerResult>;
}

export type HandlerRegistry = Record<string, JobHandler<any>>;

export function defineHandler<P>(handler: JobHandler<P>): JobHandler<P> {
  return handler;
}

const handlerResultSchema = z.union([
  z.undefined(),
  z.null(),
  z.object({ status: z.literal('succeeded'), result: z.unknown().optional() }),
  z.object({ status: z.literal('deferred'), until: z.date(), reason: z.string() }),
]);

export interface RunnerOptions {
  db: Db;
  handlers: HandlerRegistry;
  logger: Logger;
  runnerId?: string;
  concurrency: number;
  batchSize: number;
  leaseSeconds: number;
  perUserCap: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** How long an aborted handler gets to return before it is abandoned. */
  abortGraceMs?: number;
  /**
   * Told of every job this runner ran, as it finishes (metrics, error reporting). Must not throw; it
   * runs on the runner's path, so it should only record.
   */
  onJobSettled?: (report: JobSettledReport) => void;
}

/** What `onJobSettled` hears: the job as claimed, how it ended, and how long its handler ran. */
export interface JobSettledReport {
  job: QueuedJob;
  /** The settlement asked for; `abandoned` when its lease was lost or the handler never returned. */
  outcome: Settlement['outcome'] | 'abandoned';
  durationMs: number;
  /** What the handler threw, if it threw. */
  error?: unknown;
  /** The settlement's error or reason. */
  message?: string;
  result?: unknown;
}

export interface PassOptions {
  /** Epoch ms: no job is claimed after it, and running handlers are aborted at it. */
  deadline: number;
  /**
   * When the queue is empty, wait this long for a kick or new work before ending the pass
   * (0: end at once, as a cron pass does).
   */
  idleMs?: number;
  /** How often an idle pass looks for new work itself (delayed jobs, other processes' enqueues). */
  pollMs?: number;
  /**
   * Empty claims, a few milliseconds apart, before the queue counts as empty, whatever `claimable`
   * says (default 0: an empty claim asks whether some user still has a runnable job and a free slot).
   */
  emptyClaimRetries?: number;
}

export interface RunSummary {
  claimed: number;
  succeeded: number;
  failed: number;
  deferred: number;
  dead: number;
  durationMs: number;
}

interface InFlight {
  job: QueuedJob;
  /** Why the job's handler should stop, once it should; the first reason wins (as an AbortSignal's). */
  abortReason?: AbortReason;
  /** Made when the handler first reads `signal` (most quick handlers never do). */
  controller?: AbortController;
  abandoned: boolean;
}

function abort(entry: InFlight, reason: AbortReason): void {
  if (entry.abortReason) return;
  entry.abortReason = reason;
  entry.controller?.abort(reason);
}

/** The handler's signal, made on first use: already aborted if the job was told to stop before. */
function signalOf(entry: InFlight): AbortSignal {
  if (!entry.controller) {
    entry.controller = new AbortController();
    if (entry.abortReason) entry.controller.abort(entry.abortReason);
  }
  return entry.controller.signal;
}

const UNKNOWN_RESULT = Symbol('abandoned');
/** How soon a claim that found nothing while the runner held jobs may be repeated without a reason to. */
const EMPTY_CLAIM_RECHECK_MS = 25;
/** Settlements a pass has under way at once (see `settleInBackground`). */
const MAX_SETTLEMENTS = 2;
/** A batch is split between two settlements only when each half holds at least this many jobs. */
const MIN_SPLIT_SETTLEMENT = 32;
const EMPTY_CLAIM_RETRIES = 0;
/**
 * How far ahead a runner claims: jobs it expects to start within this many milliseconds, at the pace
 * its handlers have been finishing, are claimed before a slot is free (held locally, leases renewed).
 */
const PREFETCH_HORIZON_MS = 50;

/**
 * Claims jobs and runs their handlers with bounded concurrency until the deadline. One pass at a
 * time per Runner; `kick()` starts one or nudges the pass under way.
 */
export class Runner {
  readonly runnerId: string;
  private readonly options: Required<Omit<RunnerOptions, 'runnerId' | 'onJobSettled'>> & Pick<RunnerOptions, 'onJobSettled'>;
  private currentPass: Promise<RunSummary> | null = null;
  private wake: (() => void) | null = null;
  private kicked = false;
  /** Moving average of handler run time (ms), kept across passes; unknown until a job has run. */
  private averageRunMs: number | undefined;

  constructor(options: RunnerOptions) {
    this.runnerId = options.runnerId ?? `runner-${randomUUID()}`;
    this.options = { abortGraceMs: 2_000, ...options };
  }

  /** Starts a pass now, or nudges the one under way; resolves with that pass's summary. */
  kick(pass: PassOptions): Promise<RunSummary> {
    if (this.currentPass) {
      this.nudge();
      return this.currentPass;
    }
    return this.run(pass);
  }

  /** Runs one pass (waits for the pass under way, if any, and runs after it). */
  run(pass: PassOptions): Promise<RunSummary> {
    const previous = this.currentPass ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(() => this.pass(pass))
      .finally(() => {
        if (this.currentPass === next) this.currentPass = null;
      });
    this.currentPass = next;
    return next;
  }

  private nudge(): void {
    this.kicked = true;
    this.wake?.();
  }

  /**
   * Jobs to claim beyond the free handler slots: as many as the handlers, at their recent pace, will
   * start within PREFETCH_HORIZON_MS, up to a batch. Quick jobs with a backlog are claimed a batch at
   * a time (one round trip for many jobs); slow ones only as slots free up, so none waits behind a
   * busy runner while another could run it.
   */
  private prefetch(): number {
    const { concurrency, batchSize } = this.options;
    if (this.averageRunMs === undefined) return 0;
    return Math.min(batchSize, Math.floor((concurrency * PREFETCH_HORIZON_MS) / Math.max(this.averageRunMs, 0.001)));
  }

  /**
   * Jobs a settlement may take as successors of the jobs it settles (`settleAndHandOff`): only while
   * the handlers are quick (the runner claims ahead, so it has room for every user's work, and
   * which user goes next is no choice), as many as it would claim now; none past the deadline.
   */
  private handOffLimit(held: number, deadline: number): number {
    const ahead = this.prefetch();
    if (ahead === 0 || Date.now() >= deadline) return 0;
    return Math.max(0, Math.min(this.options.batchSize, this.options.concurrency + 2 * ahead - held));
  }

  private recordRunTime(ms: number): void {
    this.averageRunMs = this.averageRunMs === undefined ? ms : this.averageRunMs * 0.9 + ms * 0.1;
  }

  private async pass({ deadline, idleMs = 0, pollMs = 1_000, emptyClaimRetries = EMPTY_CLAIM_RETRIES }: PassOptions): Promise<RunSummary> {
    const started = Date.now();
    const { db, concurrency, batchSize, leaseSeconds, perUserCap } = this.options;
    const summary: RunSummary = { claimed: 0, succeeded: 0, failed: 0, deferred: 0, dead: 0, durationMs: 0 };
    const inFlight = new Map<number, InFlight>();
    /** Claimed ahead of a free slot (see `prefetch`), started in claim order as slots free up. */
    const ready: QueuedJob[] = [];
    const pending: Settlement[] = [];
    let idleSince: number | null = null;
    let lastReclaim = 0;
    let emptyClaims = 0;
    let emptyWhileHolding = false;
    let passOver = false;
    let slotsReleased = false;
    let lastClaimAt = 0;

    const wakeUp = () => {
      const resolve = this.wake;
      this.wake = null;
      resolve?.();
    };
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.wake = null;
          resolve();
        }, Math.max(0, ms));
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });

    /** Resolves at the next kick or finished job (what `sleep` wakes for), without a timer. */
    const untilWoken = () =>
      new Promise<void>((resolve) => {
        this.wake = () => resolve();
      });

    const heartbeatEvery = Math.max(250, (leaseSeconds * 1000) / 3);
    const beat = setInterval(() => {
      void this.renewLeases(inFlight, ready, pending).catch((error) =>
        this.options.logger.warn({ err: error }, 'heartbeat failed; leases may lapse'),
      );
    }, heartbeatEvery);
    const deadlineTimer = setTimeout(() => {
      for (const entry of inFlight.values()) abort(entry, 'deadline');
      wakeUp();
    }, Math.max(0, deadline - Date.now()));

    /** The user of every job this pass holds (claimed and not yet settled). */
    const userOf = new Map<number, string>();
    const hold = (jobs: QueuedJob[]) => {
      for (const job of jobs) userOf.set(job.id, job.userId);
    };
    const flush = async (batch: Settlement[]) => {
      for (const settlement of batch) userOf.delete(settlement.id);
      try {
        const { settled, handedOff } = await settleRetrying(
          () =>
            settleAndHandOff(db, this.runnerId, batch, {
              limit: passOver ? 0 : this.handOffLimit(inFlight.size + ready.length, deadline),
              leaseSeconds,
              perUserCap,
            }),
          (error, attempt) => this.options.logger.warn({ err: error, jobs: batch.length, attempt }, 'settlement failed; trying again'),
        );
        if (handedOff.length < settled.length) slotsReleased = true;
        const outcomes = new Map(batch.map((s) => [s.id, s.outcome]));
        for (const job of settled) countSettled(summary, outcomes.get(job.id), job.status);
        summary.claimed += handedOff.length;
        hold(handedOff);
        ready.push(...handedOff);
        fill();
      } catch (error) {
        // Leases lapse and the jobs run again: at-least-once, never lost (but run twice).
        this.options.logger.error({ err: error, jobs: batch.length }, 'could not settle jobs');
      }
    };

    // Up to two settlements at once, on two connections: while one is under way, the jobs the other
    // handed off run and are settled (a batch and its successors alternate, each settlement taking
    // about half of what is held, instead of every job waiting for one statement after another).
    // Their job rows are disjoint and a hand-off locks no user row, so they do not wait for each other.
    const settlingNow = new Set<Promise<void>>();
    let settling: Promise<void> | null = null;
    const settleInBackground = () => {
      while (settlingNow.size < MAX_SETTLEMENTS && pending.length > 0) {
        const batch = settlingNow.size === 0 && pending.length >= 2 * MIN_SPLIT_SETTLEMENT ? takeHalfTheUsers(pending, userOf) : pending.splice(0, pending.length);
        const settlement: Promise<void> = flush(batch).finally(() => {
          settlingNow.delete(settlement);
          settling = settlingNow.size > 0 ? Promise.race(settlingNow) : null;
          // Not at once: the jobs this settlement handed off finish within this turn of the event loop,
          // and are settled together with everything else that has.
          settleSoon();
        });
        settlingNow.add(settlement);
        settling = Promise.race(settlingNow);
      }
    };
    // Finished jobs are settled as soon as they finish, together with every other job that finished
    // in the same turn of the event loop (and while settlements are under way, once one is done).
    let settleScheduled = false;
    const settleSoon = () => {
      if (settleScheduled) return;
      settleScheduled = true;
      setImmediate(() => {
        settleScheduled = false;
        settleInBackground();
      });
    };
    /** Starts claimed jobs while handler slots are free. */
    const fill = () => {
      while (inFlight.size < concurrency && ready.length > 0 && Date.now() < deadline) {
        this.start(ready.shift()!, deadline, inFlight, pending, onDone);
      }
    };
    const onDone = () => {
      fill();
      settleSoon();
      wakeUp();
    };
    /** Settles everything finished so far, and waits for the settlements under way. */
    const settleAll = async () => {
      while (settlingNow.size > 0 || pending.length > 0) {
        settleInBackground();
        await Promise.all(settlingNow);
      }
    };

    try {
      while (true) {
        const now = Date.now();
        if (now >= deadline) break;

        if (now - lastReclaim >= Math.min(5_000, heartbeatEvery)) {
          lastReclaim = now;
          await reclaimExpired(db).catch((error) =>
            this.options.logger.warn({ err: error }, 'could not reclaim expired leases'),
          );
        }

        // Pipelined: finished jobs are settled in the background (one settlement at a time, taking
        // whatever has finished) while the next batch is claimed, on another connection. A claim may
        // not yet see the slots a settlement frees (it is conservative, never over the cap), and it
        // skips the user rows a settlement holds, taking other users instead.
        settleSoon();
        fill();
        // Claim for the free slots and what the handlers will start shortly (`ahead`), double-
        // buffered: while the jobs of one claim are being started, the next claim is under way, so
        // that the handlers never wait for a claim's round trip and the claims never wait for the
        // handlers (up to two claims' worth held ahead). Slow jobs (ahead 0) are claimed as slots free.
        const ahead = this.prefetch();
        const want = Math.min(batchSize, concurrency + 2 * ahead - inFlight.size - ready.length);
        let claimedNow = 0;
        // A claim that came back empty while this runner held jobs is not repeated until something
        // could have changed its answer: a settlement released slots to other users' claims (rather
        // than handing them off), new work was announced, or EMPTY_CLAIM_RECHECK_MS passed (other runners
        // release slots too).
        const holding = inFlight.size + ready.length + pending.length + settlingNow.size > 0;
        const claimWouldFindNothing = emptyWhileHolding && holding && !slotsReleased && !this.kicked && Date.now() - lastClaimAt < EMPTY_CLAIM_RECHECK_MS;
        const attempted = want > 0 && ready.length <= ahead && !claimWouldFindNothing;
        if (attempted) {
          this.kicked = false;
          slotsReleased = false;
          lastClaimAt = Date.now();
          let jobs: QueuedJob[] = [];
          try {
            jobs = await claim(db, { runnerId: this.runnerId, limit: want, leaseSeconds, perUserCap });
          } catch (error) {
            // A deadlock victim (see settleRetrying) changed nothing and may claim again at once.
            if (isLostRace(error)) {
              this.options.logger.warn({ err: error }, 'claim lost a race; claiming again');
              continue;
            }
            this.options.logger.error({ err: error }, 'claim failed');
            await sleep(Math.min(1_000, deadline - Date.now()));
            continue;
          }
          claimedNow = jobs.length;
          emptyWhileHolding = jobs.length === 0 && holding;
          summary.claimed += jobs.length;
          hold(jobs);
          ready.push(...jobs);
          fill();
        }

        if (claimedNow > 0) {
          idleSince = null;
          emptyClaims = 0;
          continue;
        }
        // New work was announced while this claim ran: claim again at once.
        if (attempted && this.kicked) continue;
        // A settlement frees slots (and user rows): look again once it is done, or at once when new
        // work is announced meanwhile (the claim runs on another connection).
        if (settling) {
          await Promise.race([settling, untilWoken()]);
          continue;
        }
        // Finished jobs are waiting for the settlement scheduled for this turn's end: let it start.
        if (pending.length > 0) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          continue;
        }
        if (inFlight.size > 0) {
          await sleep(Math.min(pollMs, deadline - Date.now()));
          continue;
        }
        // Every slot was busy when this turn began and they have all finished since: claim now.
        if (!attempted) continue;
        // Nothing claimed, running or left to settle. Another claimer may have held the user rows this
        // one skipped, or committed its claim of them just before: while some user has a runnable job
        // and a free slot, the queue is not empty for this runner; look again shortly (backing off).
        if (emptyClaims < emptyClaimRetries || (await claimable(db, perUserCap).catch(() => false))) {
          emptyClaims += 1;
          // Announced while `claimable` ran (no sleep was there to wake): claim now.
          if (this.kicked) continue;
          await sleep(Math.min(pollMs, (10 + Math.random() * 20) * 2 ** Math.min(emptyClaims, 6), deadline - Date.now()));
          continue;
        }
        if (this.kicked) continue;
        idleSince ??= Date.now();
        const idleLeft = idleSince + idleMs - Date.now();
        if (idleLeft <= 0) break;
        await sleep(Math.min(idleLeft, pollMs, deadline - Date.now()));
      }

      // The pass takes no more jobs: settlements from now on hand nothing off, and those under way may
      // still have (their jobs join the ones claimed ahead).
      passOver = true;
      await Promise.all(settlingNow);
      // Jobs claimed ahead that never started go back to the queue, their attempt not spent.
      for (const job of ready.splice(0, ready.length)) pending.push(releaseUnstarted(job, 'not started before the runner deadline'));
      // Deadline reached: handlers were aborted; give them the grace period, then abandon them.
      if (inFlight.size > 0) {
        const graceEnd = Date.now() + this.options.abortGraceMs;
        while (inFlight.size > 0 && Date.now() < graceEnd) {
          await settleAll();
          await sleep(Math.min(50, graceEnd - Date.now()));
        }
        for (const entry of inFlight.values()) {
          entry.abandoned = true;
          pending.push({
            id: entry.job.id,
            attempt: entry.job.attempts,
            outcome: 'retry',
            error: 'handler did not stop before the runner deadline',
            retryAt: new Date(Date.now() + this.backoffMs(entry.job.attempts)),
          });
        }
        inFlight.clear();
      }
      await settleAll();
    } finally {
      clearInterval(beat);
      clearTimeout(deadlineTimer);
    }

    summary.durationMs = Date.now() - started;
    return summary;
  }

  private start(
    job: QueuedJob,
    deadline: number,
    inFlight: Map<number, InFlight>,
    pending: Settlement[],
    onDone: () => void,
  ): void {
    const entry: InFlight = { job, abandoned: false };
    inFlight.set(job.id, entry);
    const startedAt = performance.now();
    // The slot is freed in the same step as the settlement is queued, so that a claim never sees a
    // finished job as still running.
    const began = performance.now();
    let thrown: unknown;
    const finish = (settlement: Settlement | typeof UNKNOWN_RESULT) => {
      if (!entry.abandoned) {
        inFlight.delete(job.id);
        if (settlement !== UNKNOWN_RESULT) pending.push(settlement);
      }
      this.report(job, entry.abandoned ? UNKNOWN_RESULT : settlement, performance.now() - began, thrown);
      this.recordRunTime(performance.now() - startedAt);
      onDone();
    };
    void this.execute(entry, deadline, (error) => (thrown = error)).then(finish, (error: unknown) => {
      this.options.logger.error({ err: error, jobId: job.id }, 'job execution failed unexpectedly');
      finish(UNKNOWN_RESULT);
    });
  }

  private async execute(
    entry: InFlight,
    deadline: number,
    onThrown?: (error: unknown) => void,
  ): Promise<Settlement | typeof UNKNOWN_RESULT> {
    const { job } = entry;
    const held = { id: job.id, attempt: job.attempts };
    // The job's child logger is made on first use: most jobs never log.
    let jobLogger: Logger | undefined;
    const loggerOf = () =>
      (jobLogger ??= this.options.logger.child({ jobId: job.id, kind: job.kind, attempt: job.attempts }));
    const handler = this.options.handlers[job.kind];
    if (!handler) {
      return { ...held, outcome: 'dead', error: `unknown job kind "${job.kind}": no handler is registered for it` };
    }
    const parsed = handler.payload.safeParse(job.payload);
    if (!parsed.success) {
      return { ...held, outcome: 'dead', error: `invalid payload for ${job.kind}: ${z.prettifyError(parsed.error)}` };
    }
    const context: JobContext = {
      job,
      db: this.options.db,
      get signal() {
        return signalOf(entry);
      },
      get logger() {
        return loggerOf();
      },
      timeLeftMs: () => Math.max(0, deadline - Date.now()),
      progress: async (progress) => {
        await setProgress(this.options.db, this.runnerId, held, progress);
      },
    };
    try {
      const raw = await handler.run(parsed.data, context);
      if (raw === undefined || raw === null) return { ...held, outcome: 'succeeded', result: undefined };
      const result = handlerResultSchema.safeParse(raw);
      if (!result.success) {
        return { ...held, outcome: 'dead', error: `handler for ${job.kind} returned an invalid result` };
      }
      const value = result.data;
      if (value && value.status === 'deferred') return { ...held, outcome: 'deferred', until: value.until, reason: value.reason };
      return { ...held, outcome: 'succeeded', result: value?.result };
    } catch (error) {
      onThrown?.(error);
      if (entry.abortReason === 'lease_lost') return UNKNOWN_RESULT;
      if (error instanceof DeferJobError) return { ...held, outcome: 'deferred', until: error.until, reason: error.reason };
      if (entry.abortReason === 'deadline') {
        // It stopped when asked: the time budget ran out, not the job's luck.
        return { ...held, outcome: 'deferred', until: new Date(), reason: 'stopped at the runner deadline' };
      }
      const message = describeError(error);
      if (error instanceof PermanentJobError) return { ...held, outcome: 'failed', error: message };
      loggerOf().warn({ err: error }, 'job failed');
      return { ...held, outcome: 'retry', error: message, retryAt: new Date(Date.now() + this.retryDelayMs(job, error)) };
    }
  }

  /** Renews the leases of the running jobs and of those claimed ahead; acts on lost and cancelled ones. */
  private async renewLeases(inFlight: Map<number, InFlight>, ready: QueuedJob[], pending: Settlement[]): Promise<void> {
    const held = [...[...inFlight.values()].map((entry) => entry.job), ...ready].map((job) => ({ id: job.id, attempt: job.attempts }));
    if (held.length === 0) return;
    const states = await heartbeat(this.options.db, this.runnerId, held, this.options.leaseSeconds);
    const alive = new Map(states.map((state) => [state.id, state]));
    // Only the jobs this heartbeat asked about: one claimed while it ran is not lost.
    const asked = new Set(held.map((h) => h.id));
    for (const entry of inFlight.values()) {
      if (!asked.has(entry.job.id)) continue;
      const state = alive.get(entry.job.id);
      if (!state) abort(entry, 'lease_lost');
      else if (state.cancelRequested) abort(entry, 'cancelled');
    }
    for (let i = ready.length - 1; i >= 0; i--) {
      const job = ready[i]!;
      if (!asked.has(job.id)) continue;
      const state = alive.get(job.id);
      if (state && !state.cancelRequested) continue;
      ready.splice(i, 1);
      // A cancelled one is settled (it ends cancelled); a lost one belongs to someone else now.
      if (state) pending.push(releaseUnstarted(job, 'cancelled before it started'));
    }
  }

  private retryDelayMs(job: QueuedJob, error: unknown): number {
    const hinted = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
    if (typeof hinted === 'number' && Number.isFinite(hinted) && hinted >= 0) return hinted;
    return this.backoffMs(job.attempts);
  }

  private report(job: QueuedJob, settlement: Settlement | typeof UNKNOWN_RESULT, durationMs: number, error: unknown): void {
    const hook = this.options.onJobSettled;
    if (!hook) return;
    try {
      if (settlement === UNKNOWN_RESULT) {
        hook({ job, outcome: 'abandoned', durationMs, error });
        return;
      }
      hook({
        job,
        outcome: settlement.outcome,
        durationMs,
        error,
        message: settlement.outcome === 'succeeded' ? undefined : settlement.outcome === 'deferred' ? settlement.reason : settlement.error,
        result: settlement.outcome === 'succeeded' ? settlement.result : undefined,
      });
    } catch (hookError) {
      this.options.logger.warn({ err: hookError, jobId: job.id }, 'onJobSettled threw');
    }
  }

  /** Exponential backoff with equal jitter: half fixed, half random, capped. */
  backoffMs(attempt: number): number {
    const exponential = Math.min(this.options.backoffMaxMs, this.options.backoffBaseMs * 2 ** Math.max(0, attempt - 1));
    return Math.round(exponential / 2 + Math.random() * (exponential / 2));
  }
}

/**
 * Removes from `pending` and returns the settlements of about half its users (by user, so that two
 * settlements under way at once hand off to disjoint users and never reach for the same successors).
 */
function takeHalfTheUsers(pending: Settlement[], userOf: Map<number, string>): Settlement[] {
  const users = [...new Set(pending.map((s) => userOf.get(s.id)))];
  const taken = new Set(users.slice(0, Math.ceil(users.length / 2)));
  const batch = pending.filter((s) => taken.has(userOf.get(s.id)));
  const rest = pending.filter((s) => !taken.has(userOf.get(s.id)));
  pending.splice(0, pending.length, ...rest);
  return batch;
}

/** Attempts at a settlement before its jobs are left to their leases (and run again). */
const SETTLE_ATTEMPTS = 4;

/**
 * Runs a settlement again when it fails: a settlement whose jobs are left running is worse than a
 * late one, as their handlers already ran and would run again once the leases lapse. Safe to
 * repeat: the statement is atomic, and fenced by runner and attempt, so one that did commit before
 * its reply was lost changes nothing the second time. A deadlock victim tries again at once; other
 * errors after a backoff. Claims and settlements can deadlock, rarely: a settlement locks its jobs, then
 * the user rows it releases; a claim locks user rows (SKIP LOCKED), then jobs (SKIP LOCKED), but Postgres
 * waits anyway when the lock follows a job row's chain of updated versions ("while locking updated
 * version of tuple"), so a claim can hold a user row a settlement waits for while it waits for that
 * settlement. Postgres ends one of them after deadlock_timeout (1 s by default).
 */
async function settleRetrying<T>(settlement: () => Promise<T>, onRetry: (error: unknown, attempt: number) => void): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await settlement();
    } catch (error) {
      if (attempt >= SETTLE_ATTEMPTS) throw error;
      onRetry(error, attempt);
      const delayMs = isLostRace(error) ? 2 + Math.random() * 10 : 100 * 4 ** (attempt - 1);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/** Hands back a job claimed ahead that this runner will not start: queued again, its attempt not spent. */
function releaseUnstarted(job: QueuedJob, reason: string): Settlement {
  return { id: job.id, attempt: job.attempts, outcome: 'deferred', until: new Date(), reason };
}

function countSettled(summary: RunSummary, outcome: Settlement['outcome'] | undefined, status: string): void {
  if (status === 'succeeded' || (status === 'queued' && outcome === 'succeeded')) summary.succeeded += 1;
  else if (status === 'dead') summary.dead += 1;
  else if (status === 'failed' || (status === 'queued' && outcome === 'retry')) summary.failed += 1;
  else if (status === 'queued' && outcome === 'deferred') summary.deferred += 1;
  // cancelled jobs are none of these
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 2_000);
  try {
    return `non-error thrown: ${JSON.stringify(error)}`.slice(0, 2_000);
  } catch {
    return 'non-error thrown';
  }
}
