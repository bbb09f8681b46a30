import { DomainError } from '../errors';
import { providers } from '../sync/providers';
import type { ActionTool } from './types';

/**
 * Every tool, by name, from the provider declarations (an action is part of its provider's
 * declaration: lib/sync/<provider>/provider.ts lists its `actions`).
 */
let byName: Map<string, ActionTool> | undefined;

function table(): Map<string, ActionTool> {
  byName ??= new Map(
    providers
      .flatMap((provider) => Object.values(provider.actions?.() ?? {}))
      .filter((tool): tool is ActionTool => tool !== undefined)
      .map((tool) => [tool.name, tool]),
  );
  return byName;
}

export function findTool(name: string): ActionTool | undefined {
  return table().get(name);
}

/** The tool of that name; an unknown name is a 404 (no such action). */
export function toolNamed(name: string): ActionTool {
  const tool = findTool(name);
  if (!tool) throw new DomainError('not_found', `no action named ${name}`);
  return tool;
}

export function toolNames(): string[] {
  return [...table().keys()];
}
