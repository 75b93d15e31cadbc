import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDiagnostic } from '../../../src/pipelines/diagnostic.ts';
import { knownKeys } from '../../../src/pipelines/known-keys.ts';
import { loadPipelineSource } from '../../../src/pipelines/load-pipeline-source.ts';
import { pipelineJsonSchema, pipelineSchema } from '../../../src/pipelines/schema.ts';

type Json = { [k: string]: unknown };

/**
 * Every map of the published JSON Schema (zod's own conversion, not the walk under test) with the keys
 * it allows, by a concrete path to it: "k" for any key of a record, 0 for any item of a list.
 */
function mapsOf(schema: Json): Map<string, { path: PropertyKey[]; keys: Set<string> }> {
  const out = new Map<string, { path: PropertyKey[]; keys: Set<string> }>();
  const walk = (s: unknown, path: PropertyKey[]) => {
    if (s === null || typeof s !== 'object') return;
    const j = s as Json;
    for (const branch of [...((j.anyOf as unknown[]) ?? []), ...((j.oneOf as unknown[]) ?? [])])
      walk(branch, path);
    if (j.properties) {
      const at = out.get(path.join('.')) ?? { path, keys: new Set<string>() };
      out.set(path.join('.'), at);
      for (const [k, v] of Object.entries(j.properties as Json)) {
        at.keys.add(k);
        walk(v, [...path, k]);
      }
    }
    if (typeof j.additionalProperties === 'object') walk(j.additionalProperties, [...path, 'k']);
    if (typeof j.items === 'object') walk(j.items, [...path, 0]);
  };
  walk(schema, []);
  return out;
}

describe('knownKeys: the keys of the pipeline schema, by path', () => {
  it('knows every key of every map the schema allows, and no other', () => {
    const maps = mapsOf(pipelineJsonSchema());
    // The walk reached the deep maps too (a broken walk finding nothing would pass the loop below).
    for (const p of ['', 'on.push', 'jobs.k', 'jobs.k.steps.0', 'jobs.k.services.k', 'jobs.k.cache.0'])
      assert.ok(maps.has(p), `the JSON Schema has a map at "${p}"`);
    assert.ok(maps.size >= 20, `${maps.size} maps`);
    for (const [p, { path, keys }] of maps)
      assert.deepEqual(new Set(knownKeys(pipelineSchema, path)), keys, `keys at "${p}"`);
  });

  it('knows no keys where the keys are free (a record) or there is no map', () => {
    assert.deepEqual(knownKeys(pipelineSchema, ['env']), []);
    assert.deepEqual(knownKeys(pipelineSchema, ['jobs']), []);
    assert.deepEqual(knownKeys(pipelineSchema, ['repository']), []);
    assert.deepEqual(knownKeys(pipelineSchema, ['jobs', 'k', 'steps', 'not-an-index']), []);
  });

  it('still names a misspelt key at its file:line:col with the key it meant, wherever it is', () => {
    const file = `repository: o/r
on:
  push:
    branchs: [main]
jobs:
  build:
    strategi:
      matrix: { v: [1] }
    services:
      db:
        run: redis-server
        redy: 'true'
    steps:
      - run: make
        shel: bash
notfy: []
`;
    const got = loadPipelineSource('p.yml', Buffer.from(file), {}).diagnostics.map(formatDiagnostic);
    assert.deepEqual(got, [
      'p.yml:4:5: unknown key "branchs" in on.push (did you mean "branches"?)',
      'p.yml:7:5: unknown key "strategi" in jobs.build (did you mean "strategy"?)',
      'p.yml:12:9: unknown key "redy" in jobs.build.services.db (did you mean "ready"?)',
      'p.yml:15:9: unknown key "shel" in jobs.build.steps[0] (did you mean "shell"?)',
      'p.yml:16:1: unknown key "notfy" (did you mean "notify"?)',
    ]);
  });

  it('lists the keys it knows when nothing is close', () => {
    const file = `repository: o/r\non: push\njobs:\n  b:\n    steps:\n      - run: make\n        colour: red\n`;
    const got = loadPipelineSource('p.yml', Buffer.from(file), {}).diagnostics.map(formatDiagnostic);
    const step = knownKeys(pipelineSchema, ['jobs', 'b', 'steps', 0]);
    assert.ok(step.includes('working-directory') && step.includes('uses'));
    assert.deepEqual(got, [
      `p.yml:7:9: unknown key "colour" in jobs.b.steps[0] (expected one of: ${step.join(', ')})`,
    ]);
  });
});
