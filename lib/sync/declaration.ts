import type { ActionTool } from '../actions/types';
import type { Config } from '../config';
import type { AnyStreamSync } from './engine/types';
import { syncJobKind } from './streams';

/** The config settings of a type: a declaration names its settings, the config reads and documents them. */
type SettingOf<T> = { [K in keyof Config]-?: Config[K] extends T ? K : never }[keyof Config];

/**
 * Everything switchyard knows about a provider, in one place (lib/sync/<provider>/provider.ts). The
 * lists of ./providers.ts are derived from these: the job registry, the streams, the budgets, the Nango
 * integrations. Adding a provider is a folder with its declaration and one line in ./providers.ts.
 */
export interface ProviderDeclaration<Name extends string = string> {
  /** connections.provider, provider_usage.provider, the job kind `sync.<name>`. */
  name: Name;
  /** What is synced: each stream has its own cursor and at most one sync job at a time. */
  streams: readonly string[];
  /** The streams a Nango sync webhook's model stands for (`GmailThread`, `SalesforceLead`...); all by default. */
  streamsForModel?(model: string): readonly string[];
  /** The setting holding this provider's Nango integration id (provider config key). */
  nangoConfigKeySetting: SettingOf<string>;
  /** The setting holding the per-user budget a minute (quota units or requests: what `request` is charged in). */
  budgetPerMinuteSetting: SettingOf<number>;
  /** The sync of one stream: its cursor schema and page → map → store functions, run by the engine (./engine). */
  sync: AnyStreamSync;
  /**
   * What the provider does on a user's behalf (send an email, create an event, upsert a record), by
   * tool name: the API and automations call them, the `action` job runs them (lib/actions). A function,
   * read when first needed: the tools import the provider's stores, whose imports lead back here, so
   * the table may not exist yet while the declarations are being defined.
   */
  actions?: () => Readonly<Record<string, ActionTool>>;
}

export type DeclaredProvider<Name extends string = string> = ProviderDeclaration<Name> & {
  /** The job kind of this provider's syncs. */
  readonly jobKind: `sync.${Name}`;
};

export function defineProvider<const Name extends string>(declaration: ProviderDeclaration<Name>): DeclaredProvider<Name> {
  return { ...declaration, jobKind: syncJobKind(declaration.name) };
}
