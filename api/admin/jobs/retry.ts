import { bulkJobsAction, bulkRetrySchema } from '../../../lib/admin';
import { retryJobs } from '../../../lib/jobs';

/** Retries dead or failed jobs in bulk: `{ids}` (up to 100) or `{filter, limit}` (up to 1000, newest first). */
export const POST = bulkJobsAction('admin.jobs_retried', bulkRetrySchema, retryJobs);
