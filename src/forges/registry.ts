import type { Setting } from '../config.ts';
import type { ForgeName } from '../model.ts';
import { bitbucket } from './bitbucket/bitbucket.ts';
import type { Forge } from './forge.ts';
import { forgejo, gitea } from './gitea/gitea.ts';
import { github } from './github/github.ts';
import { gitlab } from './gitlab/gitlab.ts';

/** Every forge pushci speaks to, by name. Adding a forge: a folder under `src/forges/` and a line here. */
const REGISTRY: Readonly<Record<ForgeName, Forge>> = { github, gitlab, gitea, forgejo, bitbucket };

/** The forges in the order people see them (help, OpenAPI, the settings table). */
export const FORGE_LIST: readonly Forge[] = Object.values(REGISTRY);

/** The forges' rows of the settings table, in that order. */
export const FORGE_SETTINGS: readonly Setting[] = FORGE_LIST.flatMap((f) => f.settings);

export function isForgeName(name: string): name is ForgeName {
  return Object.hasOwn(REGISTRY, name);
}

export function forgeNamed(name: ForgeName): Forge {
  return REGISTRY[name];
}
