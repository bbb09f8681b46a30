/**
 * A runner process for bench/actions.ts: runs `action` jobs as the app registers them until it is
 * killed (the bench SIGKILLs runners while they work). Its settings are the bench's environment.
 */
import { randomUUID } from 'node:crypto';
import { handlers } from '../lib/worker/registry';
import { newRunner } from '../lib/worker/runner';

const runner = newRunner({ runnerId: `bench-${randomUUID().slice(0, 8)}`, handlers: { action: handlers.action! } });
process.send?.({ ready: runner.runnerId });
while (true) await runner.run({ deadline: Date.now() + 600_000, idleMs: 600_000, pollMs: 100 });
