// Per-user provider quotas, accounted as Google and Salesforce account them.
//  - Gmail: 15,000 quota units per user in any rolling 60 s, per-method unit costs.
//  - Calendar: 600 requests per user in any rolling 60 s.
//  - Salesforce: an API request budget (api-usage=N/15000 on every response).
// Windows use one-second buckets.

export type QuotaProvider = 'gmail' | 'calendar' | 'salesforce';
export const QUOTA_PROVIDERS: readonly QuotaProvider[] = ['gmail', 'calendar', 'salesforce'];

export const GMAIL_UNITS_PER_MINUTE = 15_000;
export const CALENDAR_REQUESTS_PER_MINUTE = 600;
export const SALESFORCE_DAILY_API_REQUESTS = 15_000;

const LIMITS: Record<QuotaProvider, number> = {
  gmail: GMAIL_UNITS_PER_MINUTE,
  calendar: CALENDAR_REQUESTS_PER_MINUTE,
  salesforce: SALESFORCE_DAILY_API_REQUESTS,
};
const WINDOW_SECONDS = 60;

/** Gmail API quota units per method (developers.google.com/gmail/api/reference/quota). */
export function gmailCost(method: string, path: string): number {
  const p = path.replace(/^\/upload/, '').replace(/^\/gmail\/v1\/users\/[^/]+/, '');
  const m = method.toUpperCase();
  if (p === '/profile') return 1;
  if (p === '/history') return 2;
  if (p === '/messages/send') return 100;
  if (p === '/drafts/send') return 100;
  if (p === '/drafts' && m === 'POST') return 10;
  if (/^\/drafts\/[^/]+$/.test(p) && m === 'DELETE') return 10;
  if (p === '/messages/import' || (p === '/messages' && m === 'POST')) return 25;
  if (p === '/threads') return 10;
  if (/^\/threads\/[^/]+$/.test(p)) return m === 'DELETE' ? 20 : 10;
  if (/^\/threads\/[^/]+\/(modify|trash|untrash)$/.test(p)) return 10;
  if (/^\/messages\/[^/]+$/.test(p) && m === 'DELETE') return 10;
  if (p === '/messages/batchModify' || p === '/messages/batchDelete') return 50;
  if (p.startsWith('/labels')) return m === 'GET' ? 1 : 5;
  return 5; // messages.get, messages.list, messages.modify, attachments.get, ...
}

export interface ProviderUsage {
  /** Units (Gmail) or requests (Calendar) in the current rolling window; Salesforce: API requests so far. */
  windowUnits: number;
  limit: number;
  /** Units accepted since start. */
  totalUnits: number;
  /** Requests seen, accepted or refused. */
  requests: number;
  /** Requests refused for quota. */
  refusals: number;
}
export type UserUsage = Record<QuotaProvider, ProviderUsage>;

class Window {
  private readonly stamps = new Array<number>(WINDOW_SECONDS).fill(-1);
  private readonly units = new Array<number>(WINDOW_SECONDS).fill(0);
  sum(nowSec: number): number {
    let total = 0;
    for (let i = 0; i < WINDOW_SECONDS; i++) {
      const stamp = this.stamps[i] as number;
      if (stamp > nowSec - WINDOW_SECONDS && stamp <= nowSec) total += this.units[i] as number;
    }
    return total;
  }
  add(nowSec: number, units: number): void {
    const idx = nowSec % WINDOW_SECONDS;
    if (this.stamps[idx] !== nowSec) {
      this.stamps[idx] = nowSec;
      this.units[idx] = 0;
    }
    this.units[idx] = (this.units[idx] as number) + units;
  }
  /** Seconds until `needed` units fit again (0 if they fit now). */
  secondsUntilFree(nowSec: number, limit: number, needed: number): number {
    let used = this.sum(nowSec);
    if (used + needed <= limit) return 0;
    for (let wait = 1; wait <= WINDOW_SECONDS; wait++) {
      const expiring = nowSec - WINDOW_SECONDS + wait;
      const idx = ((expiring % WINDOW_SECONDS) + WINDOW_SECONDS) % WINDOW_SECONDS;
      if (this.stamps[idx] === expiring) used -= this.units[idx] as number;
      if (used + needed <= limit) return wait;
    }
    return WINDOW_SECONDS;
  }
}

interface Counter {
  window: Window;
  totalUnits: number;
  requests: number;
  refusals: number;
}

export type ConsumeResult = { ok: true; used: number } | { ok: false; used: number; retryAfterSeconds: number };

export class QuotaLedger {
  private readonly counters = new Map<string, Record<QuotaProvider, Counter>>();

  constructor(private readonly clock: () => number = Date.now) {}

  private counter(userId: string, provider: QuotaProvider): Counter {
    let user = this.counters.get(userId);
    if (!user) {
      const make = (): Counter => ({ window: new Window(), totalUnits: 0, requests: 0, refusals: 0 });
      user = { gmail: make(), calendar: make(), salesforce: make() };
      this.counters.set(userId, user);
    }
    return user[provider];
  }

  private nowSec(): number {
    return Math.floor(this.clock() / 1000);
  }

  /** Accounts one request of `units`; refuses it (and counts the refusal) when over the limit. */
  consume(userId: string, provider: QuotaProvider, units: number): ConsumeResult {
    const c = this.counter(userId, provider);
    const limit = LIMITS[provider];
    c.requests++;
    if (provider === 'salesforce') {
      if (c.totalUnits + units > limit) {
        c.refusals++;
        return { ok: false, used: c.totalUnits, retryAfterSeconds: 3600 };
      }
      c.totalUnits += units;
      return { ok: true, used: c.totalUnits };
    }
    const now = this.nowSec();
    const used = c.window.sum(now);
    if (used + units > limit) {
      c.refusals++;
      return { ok: false, used, retryAfterSeconds: Math.max(1, c.window.secondsUntilFree(now, limit, units)) };
    }
    c.window.add(now, units);
    c.totalUnits += units;
    return { ok: true, used: used + units };
  }

  /** Uses up units without a request (tests: start near a limit). */
  preload(userId: string, provider: QuotaProvider, units: number): void {
    const c = this.counter(userId, provider);
    if (provider !== 'salesforce') c.window.add(this.nowSec(), units);
    c.totalUnits += units;
  }

  usageOf(userId: string): UserUsage {
    const now = this.nowSec();
    const out = {} as UserUsage;
    for (const provider of QUOTA_PROVIDERS) {
      const c = this.counter(userId, provider);
      out[provider] = {
        windowUnits: provider === 'salesforce' ? c.totalUnits : c.window.sum(now),
        limit: LIMITS[provider],
        totalUnits: c.totalUnits,
        requests: c.requests,
        refusals: c.refusals,
      };
    }
    return out;
  }

  users(): string[] {
    return [...this.counters.keys()];
  }

  reset(userId?: string): void {
    if (userId === undefined) this.counters.clear();
    else this.counters.delete(userId);
  }
}
