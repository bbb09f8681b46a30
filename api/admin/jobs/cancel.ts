import { bulkCancelSchema, bulkJobsAction } from '../../../lib/admin';
import { cancelJobs } from '../../../lib/jobs';

/** Cancels queued or running jobs in bulk: `{ids}` (up to 100) or `{filter, limit}` (up to 1000, newest first). */
export const POST = bulkJobsAction('admin.jobs_cancelled', bulkCancelSchema, cancelJobs);
