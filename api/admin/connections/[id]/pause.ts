import { connectionAction } from '../../../../lib/admin';
import { pauseAnyConnection } from '../../../../lib/connections/operator';

/** Pauses the connection for its user: webhooks start no sync, its sync jobs are cancelled. Idempotent. */
export const POST = connectionAction('admin.connection_paused', pauseAnyConnection);
