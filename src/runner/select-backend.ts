import { existsSync } from 'node:fs';
import type { Config } from '../config.ts';
import { ConfigError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Backend } from './backend.ts';
import { hostBackend } from './backends/host/host-backend.ts';
import { findCgroups } from './backends/sandbox/cgroups.ts';
import { probeSandbox } from './backends/sandbox/probe.ts';
import { sandboxBackend } from './backends/sandbox/sandbox-backend.ts';
import { startSpawner } from './spawner/start-spawner.ts';

/**
 * The backend `PUSHCI_RUNNER` asks for, probed once at start: `sandbox` refuses to start without
 * namespace support (one-line reason), `auto` falls back to `host` with a loud warning.
 */
export async function selectBackend(config: Readonly<Config>, log: Logger): Promise<Backend> {
  if (config.runner === 'host') {
    log.warn(
      'PUSHCI_RUNNER=host: steps run unsandboxed, as the pushci user; every build is marked unsandboxed',
    );
    return hostBackend();
  }
  const missing = await probeSandbox();
  if (missing) {
    if (config.runner === 'sandbox') throw new ConfigError(`PUSHCI_RUNNER=sandbox, but ${missing}`);
    log.warn(
      { reason: missing },
      `NO SANDBOX: ${missing}. Steps run unsandboxed, as the pushci user, and can read pushci's files and reach its API and Redis; every build is marked unsandboxed. Install the sandbox's tools or set PUSHCI_RUNNER=host to acknowledge.`,
    );
    return hostBackend();
  }
  const cgroups = await findCgroups();
  const path = { PATH: config.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' };
  log.info(
    { limits: cgroups ? `cgroup v${cgroups.version}` : 'rlimits' },
    'steps run in the sandbox (bubblewrap)',
  );
  return sandboxBackend({
    hide: [config.dataDir, process.cwd(), config.pipelinesDir],
    // A home that does not exist cannot be covered; the job's own home then keeps its own path.
    home: config.env.HOME && existsSync(config.env.HOME) ? config.env.HOME : null,
    cgroups,
    // bubblewrap, the network helper and git start from a small process of their own, not the worker.
    spawn: startSpawner(path),
    helperEnv: path,
  });
}
