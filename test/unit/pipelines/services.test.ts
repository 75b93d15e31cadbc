import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDiagnostic } from '../../../src/pipelines/diagnostic.ts';
import { loadPipelineSource } from '../../../src/pipelines/load-pipeline-source.ts';
import { servicePortVariable } from '../../../src/pipelines/services.ts';

const load = (text: string) => loadPipelineSource('s.yml', Buffer.from(text), { PUSHCI_SECRET_PW: 'x' });
const problems = (text: string) => load(text).diagnostics.map(formatDiagnostic);
const HEAD = 'repository: octo-org/web\non: push\njobs:\n  test:\n';

describe('services: in pipeline files', () => {
  it('compiles process services with their readiness, port and env', () => {
    const r = load(`${HEAD}    env:
      LEVEL: debug
    services:
      redis:
        run: redis-server --port $PORT --save ''
        ready: redis-cli -p $PORT ping
        ready-timeout: 20
      api-stub:
        run: python3 -m http.server $PORT
        port: 8081
        env:
          TOKEN: \${{ secrets.PW }}
          LOG: \${{ env.LEVEL }}
      worker:
        run: ./worker.sh
        ready: false
    steps:
      - run: redis-cli -p $SERVICE_REDIS_PORT ping
`);
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual(r.pipeline!.jobs[0]!.services, [
      {
        id: 'redis',
        run: "redis-server --port $PORT --save ''",
        ready: { command: 'redis-cli -p $PORT ping' },
        readyTimeoutSeconds: 20,
        port: null,
        env: {},
      },
      {
        id: 'api-stub',
        run: 'python3 -m http.server $PORT',
        ready: 'port',
        readyTimeoutSeconds: 60,
        port: 8081,
        env: { TOKEN: '${{ secrets.PW }}', LOG: '${{ env.LEVEL }}' },
      },
      { id: 'worker', run: './worker.sh', ready: 'none', readyTimeoutSeconds: 60, port: null, env: {} },
    ]);
    assert.equal(servicePortVariable('api-stub'), 'SERVICE_API_STUB_PORT');
  });

  it('a job without services has none in its record', () => {
    const r = load(`${HEAD}    steps:\n      - run: make\n`);
    assert.equal(r.pipeline!.jobs[0]!.services, undefined);
  });

  it('reports every service that cannot run at its file:line:col', () => {
    const got = problems(`${HEAD}    services:
      pg:
        image: postgres:16
        ports: ['5432:5432']
      a-b:
        run: ./a \${{ github.sha }}
        port: 7000
      a_b:
        run: ./b
        ready: curl -f localhost:\${{ env.X }}
        port: 7000
      d:
        env:
          K: \${{ secrets.NOPE }}
    steps:
      - run: make
`);
    assert.deepEqual(got, [
      's.yml:7:9: not supported: image: services need a container engine (service "pg"); run it as a process with run:, e.g. run: redis-server --port $PORT',
      "s.yml:10:18: ${{ }} in a service's run: is not supported; set the value in the service's env: and read it as $NAME",
      's.yml:12:7: services "a-b" and "a_b" would both be SERVICE_A_B_PORT; rename one',
      "s.yml:14:34: ${{ }} in a service's ready: is not supported; set the value in the service's env: and read it as $NAME",
      's.yml:15:15: service "a-b" already uses port 7000',
      's.yml:17:9: missing required key "run" in service "d": the command that starts it',
    ]);
  });

  it('says what to write when ready: names no command but a wish (none, port)', () => {
    const got = problems(`${HEAD}    services:
      a:
        run: x
        ready: none
      b:
        run: x
        ready: port
      c:
        run: x
        ready: pg_isready -p $PORT
    steps:
      - run: make
`);
    assert.deepEqual(got, [
      's.yml:8:16: service "a": ready: none runs a command named "none"; write ready: false for no check',
      's.yml:11:16: service "b": ready: port runs a command named "port"; leave ready: out to wait until the service listens on $PORT',
    ]);
  });

  it('reports bad values and unknown keys of a service at their file:line:col', () => {
    const got = problems(`${HEAD}    services:
      c:
        run: x
        ready: true
        ready-timeout: 0
        port: 80
        color: red
      -bad:
        run: x
    steps:
      - run: make
`);
    assert.deepEqual(got, [
      's.yml:8:16: jobs.test.services.c.ready must be a command (retried until it succeeds) or false, not true',
      's.yml:9:24: jobs.test.services.c.ready-timeout must be more than 0, not the number 0',
      's.yml:10:15: jobs.test.services.c.port must be at least 1024, not the number 80',
      's.yml:11:9: unknown key "color" in jobs.test.services.c (expected one of: run, ready, ready-timeout, port, env, image, ports, options, volumes, credentials)',
      's.yml:12:7: invalid key "-bad" in jobs.test.services: service ids are letters, digits, _ and -, starting with a letter or _',
    ]);
  });
});
