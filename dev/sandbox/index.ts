// The provider sandbox's public face: start one (server.ts), and the helpers tests and benchmarks use
// to speak to switchyard as Nango would.
export { providerOfPath, startSandbox } from './server';
export type { Sandbox, SandboxOptions, SandboxSizes, SandboxUser, WebhookDelivery } from './types';
export type { Faults, FaultCounters } from './faults';
export type { Provider } from './errors';
export type { ProviderUsage, UserUsage } from './quotas';
export type { MintOptions } from './firebase';
export type { ConnectionKind } from './tokens';
export { GmailStore } from './gmail/store';
export { CalendarStore } from './calendar/store';
export { SalesforceStore } from './salesforce/store';
export {
  authPayload,
  signWebhookBody,
  stableStringify,
  syncFailurePayload,
  syncPayloadFor,
  syncSuccessPayload,
  SYNCS,
} from './nango';
export { FIREBASE_JWKS_PATH } from './firebase';
export { LLM_PATH } from './llm';
export { PROVIDER_CONFIG_KEYS } from './tokens';
