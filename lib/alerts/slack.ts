import type { Config } from '../config';

/**
 * Posts alert messages to Slack: an incoming webhook (SLACK_WEBHOOK_URL), or the Web API's
 * chat.postMessage with a bot token and a channel. A post that Slack does not acknowledge throws,
 * so the incident keeps its message unsent and the next evaluation tries again.
 */
export interface Notifier {
  readonly target: string;
  post(text: string): Promise<void>;
}

export class SlackError extends Error {
  readonly code = 'slack_failed';
  constructor(message: string) {
    super(message);
    this.name = 'SlackError';
  }
}

const TIMEOUT_MS = 5_000;

export function slackNotifier(
  settings: Pick<Config, 'SLACK_WEBHOOK_URL' | 'SLACK_BOT_TOKEN' | 'SLACK_CHANNEL' | 'SLACK_API_URL'>,
): Notifier | null {
  if (settings.SLACK_WEBHOOK_URL) {
    const url = settings.SLACK_WEBHOOK_URL;
    return {
      target: 'incoming webhook',
      post: async (text) => {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ text }),
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
        // Incoming webhooks answer 200 "ok"; errors come as 4xx with a reason in the body.
        if (!response.ok) throw new SlackError(`Slack webhook answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
      },
    };
  }
  if (settings.SLACK_BOT_TOKEN && settings.SLACK_CHANNEL) {
    const token = settings.SLACK_BOT_TOKEN;
    const channel = settings.SLACK_CHANNEL;
    const url = `${settings.SLACK_API_URL.replace(/\/$/, '')}/chat.postMessage`;
    return {
      target: `channel ${channel}`,
      post: async (text) => {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${token}` },
          body: JSON.stringify({ channel, text }),
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
        // The Web API answers 200 with { ok: false, error } for most failures.
        const body = (await response.json().catch(() => null)) as { ok?: boolean; error?: string } | null;
        if (!response.ok || !body?.ok) throw new SlackError(`Slack chat.postMessage failed: ${body?.error ?? response.status}`);
      },
    };
  }
  return null;
}
