import type { ServiceDef } from './pipeline.ts';
import type { PipelineFile } from './schema.ts';
import { hasExpression } from './expr/template.ts';

type Path = PropertyKey[];
type At = { line: number; col: number };

/** The variable a step reads a service's port from: `SERVICE_<ID>_PORT`, the id upper-cased, `-` as `_`. */
export function servicePortVariable(id: string): string {
  return `SERVICE_${id.toUpperCase().replace(/-/g, '_')}_PORT`;
}

export const DEFAULT_READY_TIMEOUT_SECONDS = 60;

/**
 * A job's `services:` as the worker runs them, reporting what cannot run: `image:` services (no
 * container engine), a missing `run:`, `${{ }}` inside a script (values go through `env:`), two
 * services on one port or one variable.
 */
export function compileServices(
  value: PipelineFile['jobs'][string]['services'],
  path: Path,
  c: {
    report(at: At, message: string): void;
    of(path: Path): At;
    ofKey(path: Path, key: string): At;
    inString(path: Path, offset: number): At;
    /** Checks the `${{ }}` of an env map (as a job's env) and returns it as strings. */
    env(
      value: Record<string, string | number | boolean | null> | undefined,
      path: Path,
    ): Record<string, string>;
  },
): ServiceDef[] {
  const out: ServiceDef[] = [];
  const variables = new Map<string, string>();
  const ports = new Map<number, string>();
  for (const [id, s] of Object.entries(value ?? {})) {
    const sp = [...path, id];
    if (s.image !== undefined) {
      c.report(
        c.ofKey(sp, 'image'),
        `not supported: image: services need a container engine (service "${id}"); run it as a process with run:, e.g. run: redis-server --port $PORT`,
      );
      continue;
    }
    for (const key of ['ports', 'options', 'volumes', 'credentials'] as const)
      if (s[key] !== undefined)
        c.report(
          c.ofKey(sp, key),
          `service "${id}": ${key}: is for image: services; a process service listens on $PORT`,
        );
    if (s.run === undefined) {
      c.report(c.of(sp), `missing required key "run" in service "${id}": the command that starts it`);
      continue;
    }
    for (const key of ['run', 'ready'] as const) {
      const text = s[key];
      if (typeof text === 'string' && hasExpression(text))
        c.report(
          c.inString([...sp, key], text.indexOf('${{')),
          `\${{ }} in a service's ${key}: is not supported; set the value in the service's env: and read it as $NAME`,
        );
    }
    // `ready: none` reads like "no check" but runs a command named none until the service gives up.
    const word = typeof s.ready === 'string' ? s.ready.trim() : '';
    if (/^(none|no|off|false|never|skip)$/i.test(word))
      c.report(
        c.of([...sp, 'ready']),
        `service "${id}": ready: ${word} runs a command named "${word}"; write ready: false for no check`,
      );
    else if (/^(port|listen|listening|default)$/i.test(word))
      c.report(
        c.of([...sp, 'ready']),
        `service "${id}": ready: ${word} runs a command named "${word}"; leave ready: out to wait until the service listens on $PORT`,
      );
    const variable = servicePortVariable(id);
    const other = variables.get(variable);
    if (other)
      c.report(c.ofKey(path, id), `services "${other}" and "${id}" would both be ${variable}; rename one`);
    variables.set(variable, id);
    if (s.port !== undefined) {
      const taken = ports.get(s.port);
      if (taken) c.report(c.of([...sp, 'port']), `service "${taken}" already uses port ${s.port}`);
      ports.set(s.port, id);
    }
    out.push({
      id,
      run: s.run,
      ready: s.ready === false ? 'none' : typeof s.ready === 'string' ? { command: s.ready } : 'port',
      readyTimeoutSeconds: s['ready-timeout'] ?? DEFAULT_READY_TIMEOUT_SECONDS,
      port: s.port ?? null,
      env: c.env(s.env, [...sp, 'env']),
    });
  }
  return out;
}
