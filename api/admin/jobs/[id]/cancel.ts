import { jobAction } from '../../../../lib/admin';
import { cancelJob } from '../../../../lib/jobs';

/** Cancels a job: a queued one at once, a running one at its next heartbeat (409 once it has finished). */
export const POST = jobAction('admin.job_cancelled', cancelJob);
