import { emailLabel } from '../../actions/gmail/label';
import { gmailActions } from '../../actions/gmail/send';
import { defineProvider } from '../declaration';
import { syncGmail } from './sync';

/** Gmail: the mailbox's threads, paced in Gmail quota units (developers.google.com/gmail/api/reference/quota). */
export const gmail = defineProvider({
  name: 'gmail',
  streams: ['threads'],
  nangoConfigKeySetting: 'NANGO_PROVIDER_CONFIG_KEY_GMAIL',
  budgetPerMinuteSetting: 'GMAIL_QUOTA_UNITS_PER_MINUTE',
  sync: syncGmail,
  actions: () => ({ ...gmailActions, [emailLabel.name]: emailLabel }),
});
