import { calendarActions } from '../../actions/calendar/events';
import { defineProvider } from '../declaration';
import { syncCalendar } from './sync';

/** Google Calendar: the primary calendar's events, paced in requests. */
export const calendar = defineProvider({
  name: 'calendar',
  streams: ['events'],
  nangoConfigKeySetting: 'NANGO_PROVIDER_CONFIG_KEY_CALENDAR',
  budgetPerMinuteSetting: 'CALENDAR_REQUESTS_PER_MINUTE',
  sync: syncCalendar,
  actions: () => calendarActions,
});
