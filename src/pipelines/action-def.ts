/** The shape of a parsed `action.yml`, as the runner needs it (parsed by `parseActionFile`). */

export interface ActionInput {
  required: boolean;
  /** As written (may hold `${{ }}`), or null. */
  default: string | null;
}

/** One step of a composite action, as the runner needs it. */
export interface ActionStep {
  id: string | null;
  name: string;
  if: string | null;
  /** The script with each `${{ }}` replaced by a variable reference (see rewriteRunScript), or null for `uses:`. */
  script: string | null;
  expressions: Array<{ variable: string; source: string }>;
  shell: string | null;
  uses: string | null;
  with: Record<string, string>;
  env: Record<string, string>;
  workingDirectory: string | null;
  continueOnError: boolean | string;
}

export type ActionRuns =
  | { using: 'composite'; steps: ActionStep[] }
  | {
      using: 'node12' | 'node16' | 'node20' | 'node24';
      main: string;
      pre: string | null;
      post: string | null;
      preIf: string | null;
      postIf: string | null;
    }
  | { using: 'docker' };

/** A parsed action.yml. */
export interface ActionDef {
  name: string;
  /** By name as written; GitHub matches input names without regard to case. */
  inputs: Record<string, ActionInput>;
  /** Composite outputs map to a `value:` template; node actions' outputs come from GITHUB_OUTPUT (null). */
  outputs: Record<string, string | null>;
  runs: ActionRuns;
}
