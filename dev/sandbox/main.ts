// Runs the provider sandbox on its own: `tsx dev/sandbox/main.ts [port]`.
// Port: argv[2], else SANDBOX_PORT, else 4010.
import { startSandbox } from './index';

const port = Number(process.argv[2] ?? process.env['SANDBOX_PORT'] ?? 4010);
const users = (process.env['SANDBOX_USERS'] ?? 'demo-user')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);

const sandbox = await startSandbox({
  port,
  seed: Number(process.env['SANDBOX_SEED'] ?? 1),
  webhookSigningKey: process.env['NANGO_WEBHOOK_SIGNING_KEY'] ?? 'sandbox-webhook-signing-key',
  nangoSecretKey: process.env['NANGO_SECRET_KEY'] || undefined,
  firebaseProjectId: process.env['FIREBASE_PROJECT_ID'] ?? 'switchyard-dev',
  historyKeep: process.env['SANDBOX_HISTORY_KEEP'] ? Number(process.env['SANDBOX_HISTORY_KEEP']) : undefined,
});
for (const userId of users) sandbox.ensureUser(userId);

console.log(`provider sandbox listening on ${sandbox.url} (users: ${users.join(', ') || 'none'})`);

const stop = async () => {
  await sandbox.close();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
