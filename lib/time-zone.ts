/** IANA time zones through Intl: validity, the offset at an instant, the instant of a wall-clock time. */

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsets = new Map<string, number>();

function formatter(zone: string): Intl.DateTimeFormat {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, format);
  }
  return format;
}

export function isValidTimeZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** The zone's offset from UTC (ms, positive east of Greenwich) at the instant `utcMs`. */
export function tzOffsetMs(zone: string, utcMs: number): number {
  if (zone === 'UTC' || zone === 'Etc/UTC') return 0;
  const bucket = Math.floor(utcMs / 900_000); // offsets only change on 15-minute boundaries
  const key = `${zone}|${bucket}`;
  const hit = offsets.get(key);
  if (hit !== undefined) return hit;
  const probe = bucket * 900_000;
  const parts: Record<string, number> = {};
  for (const p of formatter(zone).formatToParts(new Date(probe))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  const offset = wall - probe;
  if (offsets.size > 200_000) offsets.clear();
  offsets.set(key, offset);
  return offset;
}

/**
 * The UTC instant of a wall-clock time in the zone. Two rounds settle the offset for any time but
 * those a clock change skips (there the later offset wins, as in most calendars) or repeats.
 */
export function wallToUtc(zone: string, y: number, mo: number, d: number, h = 0, mi = 0, s = 0): number {
  const guess = Date.UTC(y, mo - 1, d, h, mi, s);
  const first = tzOffsetMs(zone, guess);
  const utc = guess - first;
  const second = tzOffsetMs(zone, utc);
  return second === first ? utc : guess - second;
}
