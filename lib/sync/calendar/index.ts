export { calendar } from './provider';
export {
  CALENDAR_PAGE_SIZE,
  configuredWindow,
  createCalendarSync,
  payloadWindow,
  syncCalendar,
  type CalendarPageRecords,
  type CalendarSyncOptions,
} from './sync';
export type { CalendarCursor } from './cursor';
