import type { Setting } from '../settings.ts';
import type { ForgeName } from '../model.ts';
import { bitbucket } from './bitbucket/bitbucket.ts';
import type { Forge } from './forge.ts';
import { forgejo, gitea } from './gitea/gitea.ts';
import { github } from './github/github.ts';
import { gitlab } from './gitlab/gitlab.ts';

/** Every forge pushci speaks to, by name. Adding a forge: a folder under `src/forges/` and a line here. */
const REGISTRY = { github, gitlab, gitea, forgejo, bitbucket } as const satisfies Record<ForgeName, Forge>;

/** Every forge's rows of the settings table, with their literal keys and kinds: `Config` is derived from them. */
export type ForgeSettingRow = (typeof REGISTRY)[ForgeName]['settings'][number];

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
