import { FIREBASE_JWKS_PATH, type Sandbox } from '../../dev/sandbox/index';
import { resetNangoForTests } from '../../lib/providers/nango';
import { useForFile } from './lifecycle';
import { NANGO_SECRET, PROJECT_ID, SIGNING_KEY, startTestSandbox } from './sandbox';
import { startTestApp, type TestApp } from './server';

export { NANGO_SECRET, PROJECT_ID, SIGNING_KEY } from './sandbox';

export interface SandboxedApp extends TestApp {
  sandbox: Sandbox;
  /** A Firebase ID token for the user, minted by the sandbox's issuer. */
  token(userId: string): Promise<string>;
  /** Sends a payload to the app's Nango webhook, signed as Nango signs it. */
  webhook(payload: object): Promise<Response>;
}

/** The API on a fresh database, with Nango, Google (its API root), Salesforce and Firebase played by the sandbox. */
export async function startSandboxedApp(env: Record<string, string> = {}): Promise<SandboxedApp> {
  const sandbox = await startTestSandbox({ seed: 7 });
  const app = await startTestApp({
    NANGO_HOST: sandbox.url,
    NANGO_SECRET_KEY: NANGO_SECRET,
    NANGO_WEBHOOK_SIGNING_KEY: SIGNING_KEY,
    FIREBASE_PROJECT_ID: PROJECT_ID,
    FIREBASE_JWKS_URL: sandbox.url + FIREBASE_JWKS_PATH,
    GOOGLE_API_ROOT_URL: sandbox.url,
    ...env,
  });
  resetNangoForTests();
  return {
    ...app,
    sandbox,
    token: (userId) => sandbox.mintIdToken(userId),
    webhook: (payload) => sandbox.sendWebhook(`${app.url}/api/webhooks/nango`, payload),
    close: async () => {
      await app.close();
      await sandbox.close();
    },
  };
}

/** This test file's sandboxed app: started before its tests, closed after them (see useForFile). */
export function useSandboxedApp(env: Record<string, string> = {}): SandboxedApp {
  return useForFile(() => startSandboxedApp(env), (app) => app.close());
}
