import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { MOVE_TO_FINISHED_LUA } from './bullmq-move-to-finished.ts';

const DIR = join(import.meta.dirname, 'lua');

/** What a script's header says one of KEYS or ARGV holds: numbered entries 1..count, and maybe more. */
export interface HeaderEntries {
  /** The entry lines, as written. */
  lines: string[];
  /** The numbers named, in order (a range `KEYS[4] .. KEYS[12]` names each). */
  numbers: number[];
  /** A last entry `KEYS[n...]` stands for any number from n on. */
  variadic: boolean;
}

/** A Lua script of `queue/lua/`, with what its header says it takes. */
export interface LuaScript {
  /** The file name: `<name>-<key count>.lua`, or `<name>.lua` when the key count varies. */
  file: string;
  lua: string;
  keys: HeaderEntries;
  argv: HeaderEntries;
  /** Fixed key count (from the file name), or undefined when the caller passes it. */
  numberOfKeys: number | undefined;
}

/** The KEYS and ARGV lines of a script's `--[[ ]]` header (BullMQ's convention). */
export function readHeader(lua: string): { keys: HeaderEntries; argv: HeaderEntries } {
  const header = /^--\[\[([\s\S]*?)\]\]/.exec(lua)?.[1] ?? '';
  const entries = (kind: 'KEYS' | 'ARGV'): HeaderEntries => {
    const out: HeaderEntries = { lines: [], numbers: [], variadic: false };
    const line = new RegExp(
      `^\\s*${kind}\\[(\\d+)(\\.\\.\\.)?\\](?:\\s*\\.\\.\\s*${kind}\\[(\\d+)\\])?`,
      'gm',
    );
    for (const m of header.matchAll(line)) {
      out.lines.push(m[0].trim());
      const from = Number(m[1]);
      const to = m[3] ? Number(m[3]) : from;
      for (let n = from; n <= to; n++) out.numbers.push(n);
      if (m[2]) out.variadic = true;
    }
    return out;
  };
  return { keys: entries('KEYS'), argv: entries('ARGV') };
}

export function readScript(file: string): LuaScript {
  const lua = readFileSync(join(DIR, file), 'utf8');
  const fixed = /-(\d+)\.lua$/.exec(file);
  return { file, lua, ...readHeader(lua), numberOfKeys: fixed ? Number(fixed[1]) : undefined };
}

/** Every script file, for the test that checks their headers. */
export function scriptFiles(): string[] {
  return readdirSync(DIR).filter((f) => f.endsWith('.lua'));
}

/** pushci's commands, each defined once per connection from its file. */
const COMMANDS = {
  pushciArtifactPublish: 'artifact-publish-4.lua',
  pushciArtifactDrop: 'artifact-drop-3.lua',
  pushciCacheDrop: 'cache-drop-5.lua',
  pushciCas: 'cas-1.lua',
  pushciStartJob: 'start-job-1.lua',
  pushciMoveAttempt: 'move-attempt-2.lua',
  pushciAppendLog: 'append-log-2.lua',
  pushciLogRange: 'log-range-1.lua',
  pushciCreate: 'create.lua',
  pushciGroupAdd: 'group-add-1.lua',
  pushciGroupRemove: 'group-remove-1.lua',
  pushciTakeSlot: 'take-slot-1.lua',
  pushciDropSnapshots: 'drop-snapshots.lua',
  pushciEndpointRotate: 'endpoint-rotate-2.lua',
  pushciEndpointFailed: 'endpoint-failed-1.lua',
  pushciEndpointClaimKey: 'endpoint-claim-key-2.lua',
  pushciRecordDeliveries: 'record-deliveries.lua',
  pushciWebhookLog: 'webhook-log.lua',
  pushciNewestAfter: 'newest-after-1.lua',
  pushciFinishJobs: 'finish-jobs.lua',
} as const;

/** BullMQ's scripts a pushci script runs as a function of (KEYS, ARGV), where it names them. */
const BULLMQ_SCRIPTS: Readonly<Record<string, string>> = {
  '--- @bullmq moveToFinished-14': MOVE_TO_FINISHED_LUA,
};

/** A connection with pushci's scripts as commands (arguments as the script headers name them). */
export type ScriptRedis = Redis & {
  pushciArtifactPublish(
    index: string,
    byAge: string,
    bytes: string,
    expiry: string,
    ...args: [
      name: string,
      info: string,
      size: string,
      member: string,
      at: string,
      until: string,
      build: string,
    ]
  ): Promise<null>;
  pushciArtifactDrop(
    index: string,
    byAge: string,
    bytes: string,
    name: string,
    member: string,
  ): Promise<number>;
  pushciCacheDrop(
    lru: string,
    bytes: string,
    entry: string,
    scope: string,
    reserved: string,
    id: string,
    field: string,
  ): Promise<number>;
  pushciCas(key: string, field: string, from: string, ...set: string[]): Promise<Array<string | number>>;
  pushciStartJob(
    key: string,
    ...args: [
      statusField: string,
      from: string,
      to: string,
      stateField: string,
      state: string,
      buildFrom: string,
      buildTo: string,
      startedAt: string,
    ]
  ): Promise<Array<string | number>>;
  pushciMoveAttempt(
    key: string,
    durations: string,
    statusField: string,
    from: string,
    stateField: string,
    attempt: string,
    bucket: string,
    seconds: string,
    to: string,
    state: string,
    buildStatus: string,
    buildFrom: string,
    buildReason: string,
    buildFinishedAt: string,
    buildStartedAt: string,
    ...others: string[]
  ): Promise<Array<string | number | null>>;
  pushciAppendLog(
    log: string,
    build: string,
    stateField: string,
    attempt: string,
    channel: string,
    lines: string,
  ): Promise<number>;
  pushciLogRange(log: string, first: string, last: string): Promise<[count: number, joined: string]>;
  pushciCreate(numKeys: number, ...keysAndArgs: string[]): Promise<Array<Array<number | string>>>;
  pushciGroupAdd(key: string, score: string, id: string): Promise<string[]>;
  pushciGroupRemove(key: string, id: string): Promise<string[]>;
  pushciTakeSlot(key: string, now: string, until: string, id: string, max: string): Promise<number>;
  pushciDropSnapshots(numKeys: number, ...keysAndArgs: string[]): Promise<number>;
  pushciEndpointRotate(
    key: string,
    version: string,
    secret: string,
    until: string,
    at: string,
  ): Promise<number>;
  pushciEndpointFailed(key: string, at: string): Promise<string | null>;
  pushciEndpointClaimKey(keyIdKey: string, index: string, keyId: string): Promise<string | null>;
  pushciRecordDeliveries(numKeys: number, ...keysAndArgs: string[]): Promise<number>;
  pushciWebhookLog(numKeys: number, ...keysAndArgs: string[]): Promise<number>;
  pushciNewestAfter(index: string, score: string, member: string, count: string): Promise<string[]>;
  pushciFinishJobs(numKeys: number, ...keysAndArgs: Array<string | Buffer>): Promise<unknown[]>;
};

let loaded: Array<[string, LuaScript]> | null = null;

/** Defines pushci's commands on a connection (once; later calls return it as is). */
export function withScripts(redis: Redis): ScriptRedis {
  if ('pushciCas' in redis) return redis as ScriptRedis;
  loaded ??= Object.entries(COMMANDS).map(([name, file]) => {
    const script = readScript(file);
    let lua = script.lua;
    for (const [line, content] of Object.entries(BULLMQ_SCRIPTS)) lua = lua.replace(line, () => content);
    return [name, { ...script, lua }];
  });
  for (const [name, script] of loaded)
    redis.defineCommand(
      name,
      script.numberOfKeys === undefined
        ? { lua: script.lua }
        : { numberOfKeys: script.numberOfKeys, lua: script.lua },
    );
  return redis as ScriptRedis;
}

/** The script files each command runs (for the header test). */
export const COMMAND_FILES: Readonly<Record<string, string>> = COMMANDS;
