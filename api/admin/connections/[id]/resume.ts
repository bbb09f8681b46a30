import { connectionAction } from '../../../../lib/admin';
import { resumeAnyConnection } from '../../../../lib/connections/operator';

/** Resumes a paused connection for its user; an incremental sync of each stream catches up. */
export const POST = connectionAction('admin.connection_resumed', resumeAnyConnection);
