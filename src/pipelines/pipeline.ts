import type { ForgeName, OutboundEventType } from '../model.ts';
import type { Glob } from './glob.ts';

/** A compiled pipeline: what matching and the runner use. Strings may still hold `${{ }}` references. */
export interface Pipeline {
  name: string;
  file: string;
  repository: string;
  cloneUrl: string | null;
  forge: ForgeName | null;
  trigger: Trigger;
  env: Record<string, string>;
  jobs: JobDef[];
  notify: NotifyDef[];
  /** Null: no group, every push builds in parallel. */
  concurrency: Concurrency | null;
  /** Global cap on running jobs of this pipeline, or null. */
  maxJobs: number | null;
  /** Commit status context (e.g. `pushci/web`), or null for no commit statuses. */
  commitStatus: string | null;
}

export interface Concurrency {
  /** Group name; null means "pipeline and ref" (filled in per build). */
  group: string | null;
  cancelInProgress: boolean;
}

export interface Trigger {
  branches: Glob[] | null;
  branchesIgnore: Glob[] | null;
  tags: Glob[] | null;
  tagsIgnore: Glob[] | null;
  paths: Glob[] | null;
  pathsIgnore: Glob[] | null;
}

export interface JobDef {
  name: string;
  needs: string[];
  if: 'success' | 'failure' | 'always';
  env: Record<string, string>;
  timeoutMinutes: number | null;
  continueOnError: boolean;
  workingDirectory: string | null;
  /** Network of its sandboxed steps (`network:` of the job, else of the pipeline). */
  network: 'default' | 'none' | 'host';
  steps: StepDef[];
}

export interface StepDef {
  name: string;
  run: string;
  env: Record<string, string>;
  timeoutMinutes: number | null;
  continueOnError: boolean;
  workingDirectory: string | null;
  shell: string | null;
}

export interface NotifyDef {
  url: string;
  secrets: string[];
  events: OutboundEventType[];
  branches: Glob[] | null;
}
