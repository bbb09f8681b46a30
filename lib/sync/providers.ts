import { config } from '../config';
import { calendar } from './calendar/provider';
import { gmail } from './gmail/provider';
import { salesforce } from './salesforce/provider';

/** Every provider switchyard syncs. Adding one is its folder (./<name>/provider.ts) and a line here. */
export const providers = [gmail, calendar, salesforce] as const;

/** What follows is derived from the declarations above; nothing else lists providers. */

export type Provider = (typeof providers)[number]['name'];
export type ProviderDeclarationOf<P extends Provider> = Extract<(typeof providers)[number], { name: P }>;

/** The provider names, for validation (`z.enum(providerNames)`). */
export const providerNames = providers.map((provider) => provider.name) as [Provider, ...Provider[]];

export function isProvider(name: string): name is Provider {
  return (providerNames as readonly string[]).includes(name);
}

export function providerDeclaration<P extends Provider>(name: P): ProviderDeclarationOf<P> {
  return providers.find((provider) => provider.name === name) as ProviderDeclarationOf<P>;
}

/** What each provider's sync keeps, stream by stream. */
export const STREAMS = Object.fromEntries(providers.map((provider) => [provider.name, provider.streams])) as Record<Provider, readonly string[]>;

/** The streams of a provider as a stored row names it (connections.provider): none for a name no longer declared. */
export function streamsOf(provider: string): readonly string[] {
  return isProvider(provider) ? providerDeclaration(provider).streams : [];
}

/** Maps a Nango sync model name (`GmailThread`, `SalesforceLead`, `Lead`, `leads`…) to the provider's streams. */
export function streamsForModel(provider: Provider, model: string | undefined): readonly string[] {
  const declaration = providerDeclaration(provider);
  if (!model || !declaration.streamsForModel) return declaration.streams;
  return declaration.streamsForModel(model);
}

/** The per-user budget a minute of a provider's requests (Gmail: quota units), from its setting. */
export function budgetPerMinute(provider: Provider): number {
  return config()[providerDeclaration(provider).budgetPerMinuteSetting];
}

/** Each provider's Nango integration id (provider config key), from its setting. */
export function providerConfigKeys(): Record<Provider, string> {
  const settings = config();
  return Object.fromEntries(providers.map((provider) => [provider.name, settings[provider.nangoConfigKeySetting]])) as Record<Provider, string>;
}

/** The provider whose Nango integration id this is, if any. */
export function providerForConfigKey(key: string): Provider | null {
  const entry = Object.entries(providerConfigKeys()).find(([, configured]) => configured === key);
  return entry ? (entry[0] as Provider) : null;
}
