import { runAlerts } from '../../lib/alerts';
import { slackNotifier } from '../../lib/alerts/slack';
import { config } from '../../lib/config';
import { db } from '../../lib/database';
import { route } from '../../lib/http/route';
import { assertCronRequest } from '../../lib/http/secrets';
import { sentryEnvironment } from '../../lib/observability/sentry';

/** Vercel Cron, every 5 minutes: evaluates the alert rules; Slack hears of each incident once, and of its recovery. */
export const GET = route(async (request, { logger }) => {
  assertCronRequest(request);
  const settings = config();
  const summary = await runAlerts(db(), {
    thresholds: settings,
    notifier: slackNotifier(settings),
    environment: sentryEnvironment(settings),
    logger,
  });
  return Response.json(summary);
});
