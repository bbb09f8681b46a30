import { jobAction } from '../../../../lib/admin';
import { retryJob } from '../../../../lib/jobs';

/** Puts a dead (or failed) job back in the queue with fresh attempts (409 in another state). */
export const POST = jobAction('admin.job_retried', retryJob);
