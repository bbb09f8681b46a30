import { auth, gmail, type gmail_v1 } from '@googleapis/gmail';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../dev/sandbox/index';

/** The secrets the sandbox signs and checks with, and the Firebase project its tokens are for. */
export const SIGNING_KEY = 'test-webhook-signing-key';
export const NANGO_SECRET = 'test-nango-secret';
export const PROJECT_ID = 'switchyard-test';

/** The provider sandbox on a free port, with the test secrets (seed 42 unless given). */
export function startTestSandbox(opts: Partial<SandboxOptions> = {}): Promise<Sandbox> {
  return startSandbox({
    port: 0,
    seed: 42,
    webhookSigningKey: SIGNING_KEY,
    nangoSecretKey: NANGO_SECRET,
    firebaseProjectId: PROJECT_ID,
    ...opts,
  });
}

/** The real Gmail client, pointed at the sandbox, authenticated with an OAuth2 access token. */
export function gmailClient(sandbox: Sandbox, accessToken: string, extra: { timeout?: number } = {}): gmail_v1.Gmail {
  const oauth = new auth.OAuth2();
  oauth.setCredentials({ access_token: accessToken });
  return gmail({ version: 'v1', rootUrl: `${sandbox.url}/`, retry: false, auth: oauth, ...extra });
}

/** The status and JSON body of a failed googleapis call. */
export async function failure(p: Promise<unknown>): Promise<{ status: number; data: any; headers: Headers | Record<string, string> }> {
  try {
    await p;
  } catch (err) {
    const e = err as { status?: number; response?: { status: number; data: unknown; headers: Headers | Record<string, string> } };
    if (e.response) return { status: e.response.status, data: e.response.data, headers: e.response.headers };
    throw err;
  }
  throw new Error('expected the call to fail');
}

export function header(headers: Headers | Record<string, string>, name: string): string | null {
  const plain = headers as Record<string, string>;
  const getter = (headers as { get?: unknown }).get;
  if (typeof getter === 'function') return (getter as (n: string) => string | null).call(headers, name);
  const key = Object.keys(plain).find((k) => k.toLowerCase() === name.toLowerCase());
  return key ? String(plain[key]) : null;
}
