/**
 * Google Calendar v3 REST paths, as @googleapis/calendar calls them at rootUrl = the sandbox url.
 *
 * Mounted by the sandbox core after its auth/quota/fault middleware, which sets the Hono variable `account`.
 */
import { Hono, type Context } from 'hono';
import { CalendarApiError, notFound, present, type EventInput } from './events';
import { SEND_UPDATES, type CalendarStore, type SendUpdates } from './store';
import { isValidTimeZone } from './time';
type Env = { Variables: { account: string } };

export function calendarRoutes(store: CalendarStore): Hono<Env> {
  const app = new Hono<Env>();
  const base = '/calendar/v3/calendars/:calendarId';

  const handle =
    (fn: (c: Context<Env>, account: string) => Response | Promise<Response>) =>
    async (c: Context<Env>): Promise<Response> => {
      try {
        const account = c.get('account');
        store.ensureAccount(account);
        return await fn(c, account);
      } catch (e) {
        if (e instanceof CalendarApiError) return c.json(e.body, e.code as 400);
        throw e;
      }
    };
  const calId = (c: Context<Env>) => c.req.param('calendarId') ?? '';
  const eventId = (c: Context<Env>) => c.req.param('eventId') ?? '';
  const json = async (c: Context<Env>): Promise<EventInput> => {
    try {
      const v = (await c.req.json()) as unknown;
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
      return v as EventInput;
    } catch {
      throw new CalendarApiError(400, 'parseError', 'Parse Error');
    }
  };
  const bool = (v: string | undefined) => (v === undefined ? undefined : v === 'true');
  const sendUpdates = (c: Context<Env>): SendUpdates | undefined => {
    const v = c.req.query('sendUpdates');
    if (v === undefined) return undefined;
    if (!(SEND_UPDATES as readonly string[]).includes(v)) throw new CalendarApiError(400, 'invalidParameter', `Invalid value for: ${v} is not a valid value`);
    return v as SendUpdates;
  };
  const int = (v: string | undefined) => (v === undefined ? undefined : /^-?\d+$/.test(v) ? Number(v) : NaN);

  app.get(
    `${base}/events`,
    handle((c, account) => {
      const q = c.req.query();
      const many = (k: string) => c.req.queries(k);
      return c.json(
        store.listEvents(account, calId(c), {
          timeMin: q.timeMin,
          timeMax: q.timeMax,
          singleEvents: bool(q.singleEvents),
          orderBy: q.orderBy,
          maxResults: int(q.maxResults),
          pageToken: q.pageToken,
          showDeleted: bool(q.showDeleted),
          updatedMin: q.updatedMin,
          q: q.q,
          syncToken: q.syncToken,
          timeZone: q.timeZone,
          iCalUID: q.iCalUID,
          privateExtendedProperty: many('privateExtendedProperty'),
          sharedExtendedProperty: many('sharedExtendedProperty'),
        }),
      );
    }),
  );
  app.post(
    `${base}/events`,
    handle(async (c, account) => {
      store.checkCalendar(account, calId(c));
      const notify = sendUpdates(c);
      const ev = store.addEvent(account, await json(c));
      store.notify(account, ev, 'invitation', notify);
      return c.json(ev);
    }),
  );
  app.get(
    `${base}/events/:eventId/instances`,
    handle((c, account) => {
      const q = c.req.query();
      return c.json(
        store.listInstances(account, calId(c), eventId(c), {
          timeMin: q.timeMin,
          timeMax: q.timeMax,
          maxResults: int(q.maxResults),
          pageToken: q.pageToken,
          showDeleted: bool(q.showDeleted),
          timeZone: q.timeZone,
        }),
      );
    }),
  );
  app.get(
    `${base}/events/:eventId`,
    handle((c, account) => {
      store.checkCalendar(account, calId(c));
      const ev = store.getEvent(account, eventId(c));
      if (!ev) throw notFound();
      const tz = c.req.query('timeZone');
      return c.json(tz && isValidTimeZone(tz) ? present(ev, tz) : ev);
    }),
  );
  // events.patch merges the body into the event; events.update replaces its writable fields.
  for (const [method, write] of [
    ['PATCH', 'patchEvent'],
    ['PUT', 'updateEvent'],
  ] as const) {
    app.on(
      method,
      `${base}/events/:eventId`,
      handle(async (c, account) => {
        store.checkCalendar(account, calId(c));
        const notify = sendUpdates(c);
        const ev = store[write](account, eventId(c), await json(c));
        store.notify(account, ev, 'update', notify);
        return c.json(ev);
      }),
    );
  }
  app.delete(
    `${base}/events/:eventId`,
    handle((c, account) => {
      store.checkCalendar(account, calId(c));
      const notify = sendUpdates(c);
      const ev = store.cancelEvent(account, eventId(c));
      store.notify(account, ev, 'cancellation', notify);
      return c.body(null, 204);
    }),
  );
  app.get(
    base,
    handle((c, account) => {
      store.checkCalendar(account, calId(c));
      return c.json(store.calendarResource(account));
    }),
  );
  app.get(
    '/calendar/v3/users/me/calendarList',
    handle((c, account) => {
      const entry = store.calendarListEntry(account);
      return c.json({ kind: 'calendar#calendarList', etag: entry.etag, nextSyncToken: store.currentSyncToken(account), items: [entry] });
    }),
  );
  app.get(
    '/calendar/v3/users/me/calendarList/:calendarId',
    handle((c, account) => {
      store.checkCalendar(account, calId(c));
      return c.json(store.calendarListEntry(account));
    }),
  );

  return app;
}
