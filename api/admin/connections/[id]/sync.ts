import { connectionAction } from '../../../../lib/admin';
import { syncConnectionNow } from '../../../../lib/connections/operator';

/** Sync now: an incremental sync of every stream, ahead of other incremental work; 409 unless active. */
export const POST = connectionAction('admin.connection_synced', syncConnectionNow, 202);
