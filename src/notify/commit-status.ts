import type { Config } from '../config.ts';
import { MissingTokenError } from '../errors.ts';
import type { ApiCall } from '../forges/forge.ts';
import { forgeNamed } from '../forges/registry.ts';
import type { StatusDelivery } from './emit.ts';

export { MissingTokenError };

/** The forge API call that sets a commit status: URL, headers and JSON body. */
export function statusRequest(d: StatusDelivery, config: Readonly<Config>): ApiCall {
  const forge = forgeNamed(d.forge);
  if (!forge.commitStatus)
    throw new MissingTokenError(`${forge.title} has no commit statuses pushci can set`);
  // GitHub cuts descriptions at 140 characters and refuses longer ones; so do we, visibly.
  const description = d.description.length > 140 ? `${d.description.slice(0, 139)}…` : d.description;
  return forge.commitStatus({ ...d, description }, config);
}
