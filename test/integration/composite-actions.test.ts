import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { jobLog, pushAndWait } from '../helpers/push-build.ts';
import { suiteServer } from '../helpers/suite-server.ts';

const SECRET = 'composite-secret';

const GREET = `name: Greet
inputs:
  who:
    description: whom to greet
    required: true
  greeting:
    default: Hello
  shout mode:
    default: \${{ github.ref_name }}
  node-version:
    default: '24'
  log-level:
    default: $(echo NOT-RUN)
outputs:
  message:
    value: \${{ steps.say.outputs.text }}
  inner:
    value: \${{ steps.nested.outputs.echoed }}
runs:
  using: composite
  steps:
    - id: say
      shell: bash
      run: |
        echo "text=\${{ inputs.greeting }}, \${{ inputs.who }}!" >> "$GITHUB_OUTPUT"
        echo "said: \${{ inputs.greeting }}, \${{ inputs.who }}!"
        echo "env: who=$INPUT_WHO shout=$INPUT_SHOUT_MODE caller=$CALLER"
        echo "hyphenated: $(printenv INPUT_NODE-VERSION) default: $(printenv INPUT_LOG-LEVEL)"
        echo "path-ok: $([ "$GITHUB_ACTION_PATH" = "\${{ github.action_path }}" ] && echo yes)"
    - if: inputs.greeting == 'never'
      shell: bash
      run: echo "must not run $((40+2))"
    - shell: bash
      working-directory: \${{ github.action_path }}
      run: cat data.txt
    - id: nested
      uses: ./.github/actions/inner
      with:
        value: inner-\${{ inputs.greeting }}
`;

const INNER = `name: Inner
inputs:
  value:
    required: true
outputs:
  echoed:
    value: \${{ steps.e.outputs.v }}
runs:
  using: composite
  steps:
    - id: e
      shell: sh
      run: |
        echo "v=$INPUT_VALUE" >> "$GITHUB_OUTPUT"
        echo "inner got \${{ inputs.value }}"
`;

describe('local composite actions (uses: ./path)', () => {
  const s = suiteServer({
    history: [
      {
        '.github/actions/greet/action.yml': GREET,
        '.github/actions/greet/data.txt': 'data from the action folder\n',
        '.github/actions/inner/action.yaml': INNER,
        '.github/actions/fails/action.yml': `name: Fails\nruns:\n  using: composite\n  steps:\n    - shell: bash\n      run: echo about to fail; exit 3\n    - shell: bash\n      run: echo not reached $((40+2))\n`,
        '.github/actions/broken/action.yml': `name: Broken\ninputs:\n  a:\n    required: maybe\nruns:\n  using: composite\n  steps:\n    - shell: bash\n      nope: 1\n      run: echo hi\n`,
        '.github/actions/docker/action.yml': `name: D\nruns:\n  using: docker\n  image: Dockerfile\n`,
        '.github/actions/loop/action.yml': `name: Loop\nruns:\n  using: composite\n  steps:\n    - uses: ./.github/actions/loop\n`,
      },
    ],
    pipelines: (repo) => {
      // An action on the worker, outside any checkout, that committed symlinks point at.
      const outside = mkdtempSync(join(tmpdir(), 'pushci-outside-action-'));
      writeFileSync(
        join(outside, 'action.yml'),
        'name: Outside\nruns:\n  using: composite\n  steps:\n    - shell: bash\n      run: echo ESCAPED-$((40+2))\n',
      );
      symlinkSync(outside, join(repo.dir, '.github/actions/link'));
      mkdirSync(join(repo.dir, '.github/actions/file-link'));
      symlinkSync(join(outside, 'action.yml'), join(repo.dir, '.github/actions/file-link/action.yml'));
      repo.commit({}, 'symlinks out of the checkout');
      const head = (name: string) =>
        `name: ${name}\nrepository: octo-org/${name}\nclone-url: ${repo.dir}\non: push\n`;
      return {
        'ok.yml': `${head('ok')}jobs:
  build:
    outputs:
      message: \${{ steps.g.outputs.message }}
    steps:
      - id: g
        uses: ./.github/actions/greet
        env:
          CALLER: from-the-step
        with:
          who: $(echo INJECTED) "quoted" \${{ github.event_name }}
          Shout Mode: loud
          node-version: '22'
      - run: |
          echo "message=\${{ steps.g.outputs.message }}"
          echo "inner=\${{ steps.g.outputs.inner }}"
          echo "outcome=\${{ steps.g.outcome }}"
`,
        'fail.yml': `${head('fail')}jobs:
  missing:
    steps:
      - uses: ./.github/actions/greet
  failing:
    steps:
      - id: f
        uses: ./.github/actions/fails
        continue-on-error: true
      - run: echo "after=\${{ steps.f.outcome }}/\${{ steps.f.conclusion }}"
      - uses: ./.github/actions/fails
      - if: failure()
        run: echo cleanup-ran
  broken:
    steps:
      - uses: ./.github/actions/broken
  docker:
    steps:
      - uses: ./.github/actions/docker
  nowhere:
    steps:
      - uses: ./no/such/action
  loop:
    steps:
      - uses: ./.github/actions/loop
  escape:
    steps:
      - uses: ./.github/actions/link
  escape-file:
    steps:
      - uses: ./.github/actions/file-link
`,
      };
    },
    env: { GITHUB_WEBHOOK_SECRET: SECRET },
  });

  const build = (name: string) =>
    pushAndWait(s.server, { name, sha: s.repo.commits.at(-1)!, secret: SECRET, timeoutMs: 90_000 });
  const log = (id: string, job: string) => jobLog(s.server, id, job);

  it('runs a composite action with inputs, defaults, outputs, nesting and the action path', async () => {
    const b = await build('ok');
    const text = await log(b.id, 'build');
    assert.equal(b.status, 'success', text);
    // with: values reach the script as data: nothing in them runs.
    assert.match(text, /said: Hello, \$\(echo INJECTED\) "quoted" push!/);
    assert.ok(!/said: Hello, INJECTED/.test(text), text);
    // INPUT_* as GitHub spells them; with: keys match inputs without regard to case.
    assert.match(text, /env: who=\$\(echo INJECTED\) "quoted" push shout=loud caller=from-the-step/);
    // A name that is no shell identifier (GitHub's INPUT_NODE-VERSION) still reaches the step.
    assert.match(text, /hyphenated: 22 default: \$\(echo NOT-RUN\)/);
    assert.match(text, /path-ok: yes/);
    assert.match(text, /data from the action folder/);
    assert.match(text, /skipped: its if: is false \(inputs\.greeting == 'never'\)/);
    assert.ok(!text.includes('must not run 42'), text);
    assert.match(text, /inner got inner-Hello/);
    assert.match(text, /message=Hello, \$\(echo INJECTED\) "quoted" push!/);
    assert.match(text, /inner=inner-Hello/);
    assert.match(text, /outcome=success/);
    // The action's own end line comes after its steps' (the build page closes its section with it).
    const end = text.indexOf('pushci: step "./.github/actions/greet" succeeded in ');
    assert.ok(end > text.lastIndexOf('pushci: step "./.github/actions/greet / '), text);
    assert.equal(
      b.jobs.find((j) => j.name === 'build')!.outputs?.message,
      'Hello, $(echo INJECTED) "quoted" push!',
    );
  });

  it('fails clearly: missing inputs, failing steps, bad action files, docker, missing folders, loops', async () => {
    const b = await build('fail');
    assert.equal(b.status, 'failure');
    const job = (name: string) => b.jobs.find((j) => j.name === name)!;
    for (const name of ['missing', 'failing', 'broken', 'docker', 'nowhere', 'loop', 'escape', 'escape-file'])
      assert.equal(job(name).status, 'failure', name);

    assert.match(job('missing').reason ?? '', /needs the input\(s\) "who"/);

    const failing = await log(b.id, 'failing');
    assert.match(failing, /about to fail/);
    assert.ok(!failing.includes('not reached 42'), failing);
    assert.match(failing, /after=failure\/success/);
    assert.match(failing, /cleanup-ran/);
    assert.match(failing, /pushci: step "\.\/\.github\/actions\/fails" failed in \d+\.\d s/);
    assert.match(job('failing').reason ?? '', /exit code 3/);

    const broken = await log(b.id, 'broken');
    assert.match(broken, /\.github\/actions\/broken\/action\.yml:4:15: required must be true or false/);
    assert.match(broken, /\.github\/actions\/broken\/action\.yml:9:7: unknown key "nope"/);

    assert.match(
      job('docker').reason ?? '',
      /docker actions need a container engine, which pushci does not have configured/,
    );
    assert.match(job('nowhere').reason ?? '', /there is no folder no\/such\/action/);
    assert.match(job('loop').reason ?? '', /more than 10 deep/);
    // Committed symlinks cannot make the worker read an action from outside the checkout.
    assert.match(job('escape').reason ?? '', /leads outside its repository \(through a symlink\)/);
    assert.match(job('escape-file').reason ?? '', /action\.yml is not a file inside the repository/);
    for (const name of ['escape', 'escape-file']) assert.ok(!(await log(b.id, name)).includes('ESCAPED-42'));
  });
});
