// Run-time fault injection per provider: latency, 500/503 share, 429 + Retry-After share,
// hanging requests (bounded), token expiry. Decisions come from a seeded PRNG, so a given
// seed and request order always produce the same faults.
import { Prng, seedFrom } from './prng';
import type { Provider } from './errors';

export interface Faults {
  /** Added to every request. */
  latencyMs?: number;
  /** Share (0..1) of requests answered 500 or 503 with the provider's error body. */
  errorRate?: number;
  /** Share (0..1) of requests answered 429 with Retry-After. */
  rateLimitRate?: number;
  /** Retry-After on injected 429s; default 1. */
  retryAfterSeconds?: number;
  /** Action, not state: invalidates every access token of the provider now. */
  expireTokens?: boolean;
  /** Share (0..1) of requests that hang until the client gives up (at most `hangMs`). */
  hangRate?: number;
  /** Upper bound of a hang; default and maximum 120 000. */
  hangMs?: number;
  /**
   * Share (0..1) of writes (POST, PUT, PATCH, DELETE) that the provider applies and then answers 500
   * or 503 anyway: the client cannot tell that its change was made (what exactly-once must survive).
   */
  errorAfterApplyRate?: number;
  /** Share (0..1) of writes applied and then never answered (a hang, at most `hangMs`, then 503). */
  hangAfterApplyRate?: number;
}

export const MAX_HANG_MS = 120_000;

export type FaultOutcome = 'pass' | 'error500' | 'error503' | 'rateLimit' | 'hang';
/** What happens to a write's answer after the provider applied it. */
export type AfterApplyOutcome = 'pass' | 'error500' | 'error503' | 'hang';

export interface FaultCounters {
  requests: number;
  errors: number;
  rateLimited: number;
  hangs: number;
  /** Writes applied and then answered 5xx, or not answered. */
  appliedThenFailed: number;
  appliedThenHung: number;
}

/** A hang, or a server error (500 or 503 alike), from three draws and the two rates; null for neither. */
function hangOrError(hang: number, error: number, which: number, hangRate = 0, errorRate = 0): 'hang' | 'error500' | 'error503' | null {
  if (hang < hangRate) return 'hang';
  if (error < errorRate) return which < 0.5 ? 'error500' : 'error503';
  return null;
}

export class FaultController {
  private readonly faults = new Map<Provider, Faults>();
  private readonly prngs = new Map<Provider, Prng>();
  /** A stream of its own, so that after-apply faults do not shift the decisions made before requests. */
  private readonly afterPrngs = new Map<Provider, Prng>();
  private readonly counters = new Map<Provider, FaultCounters>();
  private readonly waiting = new Set<() => void>();

  constructor(
    private readonly seed: number,
    private readonly onExpireTokens: (provider: Provider) => void,
  ) {}

  set(provider: Provider, faults: Faults): void {
    const { expireTokens, ...state } = faults;
    if (expireTokens) this.onExpireTokens(provider);
    this.faults.set(provider, state);
    // Same seed + same settings + same request order => same decisions.
    this.prngs.set(provider, new Prng(seedFrom(this.seed, 'faults', provider)));
    this.afterPrngs.set(provider, new Prng(seedFrom(this.seed, 'faults-after-apply', provider)));
  }

  get(provider: Provider): Faults {
    return { ...(this.faults.get(provider) ?? {}) };
  }

  stats(provider: Provider): FaultCounters {
    let c = this.counters.get(provider);
    if (!c) {
      c = { requests: 0, errors: 0, rateLimited: 0, hangs: 0, appliedThenFailed: 0, appliedThenHung: 0 };
      this.counters.set(provider, c);
    }
    return c;
  }

  decide(provider: Provider): FaultOutcome {
    const f = this.faults.get(provider);
    const stats = this.stats(provider);
    stats.requests++;
    if (!f) return 'pass';
    const prng = this.prng(this.prngs, 'faults', provider);
    // Always draw the same number of values so one rate does not shift the others.
    const [hang, error, limited, which] = [prng.next(), prng.next(), prng.next(), prng.next()];
    const fault = hangOrError(hang, error, which, f.hangRate, f.errorRate);
    if (fault === 'hang') stats.hangs++;
    else if (fault) stats.errors++;
    else if (limited < (f.rateLimitRate ?? 0)) {
      stats.rateLimited++;
      return 'rateLimit';
    }
    return fault ?? 'pass';
  }

  /** For a write the provider has just applied: answer it, fail it (500/503), or let it hang. */
  decideAfterApply(provider: Provider): AfterApplyOutcome {
    const f = this.faults.get(provider);
    if (!f || (!f.errorAfterApplyRate && !f.hangAfterApplyRate)) return 'pass';
    const prng = this.prng(this.afterPrngs, 'faults-after-apply', provider);
    const stats = this.stats(provider);
    const [hang, error, which] = [prng.next(), prng.next(), prng.next()];
    const fault = hangOrError(hang, error, which, f.hangAfterApplyRate, f.errorAfterApplyRate);
    if (fault === 'hang') stats.appliedThenHung++;
    else if (fault) stats.appliedThenFailed++;
    return fault ?? 'pass';
  }

  /** The provider's stream of decisions of this kind, seeded from the sandbox's seed. */
  private prng(streams: Map<Provider, Prng>, kind: string, provider: Provider): Prng {
    let prng = streams.get(provider);
    if (!prng) {
      prng = new Prng(seedFrom(this.seed, kind, provider));
      streams.set(provider, prng);
    }
    return prng;
  }

  latency(provider: Provider): number {
    return Math.max(0, this.faults.get(provider)?.latencyMs ?? 0);
  }

  hangMs(provider: Provider): number {
    return Math.min(MAX_HANG_MS, Math.max(0, this.faults.get(provider)?.hangMs ?? MAX_HANG_MS));
  }

  retryAfter(provider: Provider): number {
    return Math.max(0, Math.round(this.faults.get(provider)?.retryAfterSeconds ?? 1));
  }

  /** Waits `ms`, or less if the client goes away or the sandbox closes. */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.waiting.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiting.add(done);
      if (signal) {
        if (signal.aborted) done();
        else signal.addEventListener('abort', done, { once: true });
      }
    });
  }

  /** Releases every pending wait (on close). */
  releaseAll(): void {
    for (const done of [...this.waiting]) done();
  }

  reset(): void {
    this.faults.clear();
    this.prngs.clear();
    this.afterPrngs.clear();
  }
}
