// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the test reads the deploy files' own ${VAR} placeholders.
// What can be checked of infra/ without Docker or gcloud: the scripts parse and, run against a
// stand-in gcloud that records its arguments, issue the documented commands; the Dockerfile copies
// what the backend imports and starts the file that exists; and every health route the image, the
// Cloud Run service and Vertex AI probe answers on a real backend.

import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedBackend, startTestBackend } from '../support/backend.ts';
import { repoRoot } from '../support/edge-worker.ts';

const read = (path: string) => readFileSync(join(repoRoot, path), 'utf8');
const dockerfile = read('infra/Dockerfile');
const serviceYaml = read('infra/cloudrun/service.yaml');
const vertexScript = read('infra/deploy-vertex.sh');
const scripts = ['infra/build-image.sh', 'infra/deploy-cloudrun.sh', 'infra/deploy-vertex.sh'];

/** The Dockerfile's instructions after its last FROM: what the shipped image is made of. */
const runtimeStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

function jsonArrayOf(instruction: string, text: string): string[] {
  const match = new RegExp(`^${instruction}\\s+(\\[.*\\])\\s*$`, 'm').exec(text);
  if (!match) throw new Error(`no exec-form ${instruction} in infra/Dockerfile`);
  return JSON.parse(match[1]!) as string[];
}

function healthcheckPath(): string {
  const command = /^HEALTHCHECK [^\n]*\\\n\s*CMD (\[.*\])$/m.exec(runtimeStage)?.[1];
  if (!command) throw new Error('no exec-form HEALTHCHECK in infra/Dockerfile');
  const path = /\}(\/[^`]+)`/.exec((JSON.parse(command) as string[]).join(' '))?.[1];
  if (!path) throw new Error('no path in the HEALTHCHECK command');
  return path;
}

function yamlPaths(key: 'startupProbe' | 'livenessProbe'): string {
  const path = new RegExp(`${key}:\\n\\s+httpGet:\\n\\s+path: (\\S+)`).exec(serviceYaml)?.[1];
  if (!path) throw new Error(`no ${key} httpGet path in service.yaml`);
  return path;
}

function scriptFlag(name: string): string {
  const value = new RegExp(`--${name}=(\\S+)`).exec(vertexScript)?.[1];
  if (!value) throw new Error(`deploy-vertex.sh passes no --${name}`);
  return value;
}

function tsFiles(dir: string): string[] {
  return readdirSync(join(repoRoot, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

describe('infra/Dockerfile', () => {
  it('starts a backend entry file that exists', () => {
    const command = jsonArrayOf('CMD', runtimeStage);
    expect(command[0]).toBe('node');
    expect(existsSync(join(repoRoot, command[1]!))).toBe(true);
  });

  it('copies every top-level folder the backend imports at run time', () => {
    const copied = new Set([...runtimeStage.matchAll(/^COPY --from=build \/app\/(\S+?)\/? /gm)].map((m) => m[1]!));
    const needed = new Set<string>(['package.json', 'node_modules']);
    for (const start of ['gpu-backend', 'protocol', 'models']) {
      for (const file of tsFiles(start)) {
        for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
          needed.add(relative(repoRoot, resolve(file, '..', specifier!)).split('/')[0]!);
        }
      }
    }
    expect([...needed].filter((path) => !copied.has(path))).toEqual([]);
  });

  it('runs as a non-root user on a CUDA 12 + cuDNN base, with the CUDA provider installed', () => {
    expect(/^USER (\S+)$/m.exec(runtimeStage)?.[1]).not.toMatch(/^(root|0)$/);
    expect(dockerfile).toMatch(/^ARG CUDA_IMAGE=nvidia\/cuda:12\.[\d.]+-cudnn-runtime-ubuntu\d+\.\d+$/m);
    expect(dockerfile).toMatch(/ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules\/onnxruntime-node\/script\/install\.js/);
  });

  it('uses the Node major version the project pins', () => {
    const pkg = JSON.parse(read('package.json')) as { devDependencies: Record<string, string> };
    const pinned = /\d+/.exec(pkg.devDependencies.node!)![0];
    expect(/^ARG NODE_IMAGE=node:(\d+)-/m.exec(dockerfile)?.[1]).toBe(pinned);
  });

  it('leaves in the build context everything the Dockerfile copies', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .filter((line) => line && !line.startsWith('#'));
    const copiedFromContext = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(' '));
    for (const path of copiedFromContext) expect(ignored, path).not.toContain(path.replace(/\/$/, ''));
    expect(ignored).toEqual(expect.arrayContaining(['.git', 'node_modules']));
  });
});

describe('infra/cloudrun/service.yaml', () => {
  it('is indented with spaces only', () => {
    expect(serviceYaml).not.toMatch(/\t/);
  });

  it('takes its GPU, CPU, memory and scaling from placeholders (infra/deploy.json fills them), CPU always allocated', () => {
    for (const line of [
      'run.googleapis.com/accelerator: ${GPU_TYPE}',
      'nvidia.com/gpu: "${GPU_COUNT}"',
      'cpu: "${CPU}"',
      'memory: ${MEMORY}',
      'autoscaling.knative.dev/minScale: "${MIN_INSTANCES}"',
      'run.googleapis.com/cpu-throttling: "false"',
      'run.googleapis.com/execution-environment: gen2',
    ]) {
      expect(serviceYaml).toContain(line);
    }
    expect(serviceYaml).toContain('containerConcurrency: ${CONCURRENCY}');
    expect(
      Number(/failureThreshold: (\d+)/.exec(serviceYaml)![1]) * Number(/periodSeconds: (\d+)/.exec(serviceYaml)![1]),
    ).toBeGreaterThanOrEqual(120);
  });

  it('has only the placeholders deploy-cloudrun.sh fills', () => {
    const placeholders = new Set([...serviceYaml.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]));
    const filled = new Set([...read('infra/deploy-cloudrun.sh').matchAll(/-e "s\|\\\$\{(\w+)\}\|/g)].map((m) => m[1]));
    expect([...placeholders].sort()).toEqual([...filled].sort());
  });
});

describe('deploy scripts', () => {
  it.each(scripts)('%s parses (bash -n) and is executable', (script) => {
    const result = spawnSync('bash', ['-n', join(repoRoot, script)], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(spawnSync('test', ['-x', join(repoRoot, script)]).status).toBe(0);
  });

  // A stand-in for gcloud: records each call and answers the few queries the scripts read.
  const fakeGcloud = `#!/usr/bin/env bash
echo "gcloud $*" >> "$STATE/calls"
case "$1 $2 $3" in
  "projects describe $PROJECT_ID") echo 123456789 ;;
  "secrets describe "*metrics*) [[ -z "\${NO_METRICS_SECRET:-}" ]] ;;
  "secrets describe "*) [[ -z "\${NO_SECRET:-}" ]] ;;
  "secrets create "*) cat > "$STATE/created-secret" ;;
  "iam service-accounts describe") [[ -z "\${NO_INVOKER:-}" ]] ;;
  "run services replace") cp "$4" "$STATE/rendered.yaml" ;;
  "run services describe") echo https://edgeinfer-backend-abc-uc.a.run.app ;;
  "ai endpoints list") [[ -f "$STATE/endpoint" ]] && echo "projects/p/locations/r/endpoints/$(cat "$STATE/endpoint")"; true ;;
  "ai endpoints create") echo 4242 > "$STATE/endpoint" ;;
  "ai endpoints describe") [[ -f "$STATE/deployed" ]] && paste -sd ';' "$STATE/deployed"; true ;;
  "ai endpoints deploy-model") echo $((1000 + $(cat "$STATE/deployed" 2>/dev/null | wc -l))) >> "$STATE/deployed" ;;
esac
`;
  let state: string;
  beforeAll(() => {
    state = mkdtempSync(join(tmpdir(), 'edgeinfer-infra-'));
    writeFileSync(join(state, 'gcloud'), fakeGcloud);
    chmodSync(join(state, 'gcloud'), 0o755);
  });
  afterAll(() => rmSync(state, { recursive: true, force: true }));

  function run(script: string, env: Record<string, string>) {
    rmSync(join(state, 'calls'), { force: true });
    const result = spawnSync('bash', [join(repoRoot, script)], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { PATH: `${state}:${process.env.PATH}`, HOME: state, STATE: state, ...env },
    });
    const calls = existsSync(join(state, 'calls')) ? readFileSync(join(state, 'calls'), 'utf8').trim().split('\n') : [];
    return { ...result, calls };
  }

  const project = { PROJECT_ID: 'demo-project', REGION: 'us-central1' };
  const image = 'us-central1-docker.pkg.dev/demo-project/edgeinfer/edgeinfer-backend:abc123';

  it.each(scripts)('%s names the missing variable and prints its usage', (script) => {
    const result = run(script, { REGION: 'us-central1' });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/PROJECT_ID is not set/);
    expect(result.stderr).toMatch(/Required: PROJECT_ID, REGION/);
    expect(result.calls).toEqual([]);
  });

  it('build-image.sh builds infra/Dockerfile with Cloud Build and prints the pushed image last', () => {
    const result = run('infra/build-image.sh', { ...project, TAG: 'abc123' });
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(image);
    expect(
      result.calls.some(
        (call) =>
          call.startsWith('gcloud builds submit') &&
          call.includes('--config=infra/cloudbuild.yaml') &&
          call.includes(`--substitutions=_IMAGE=${image}`),
      ),
    ).toBe(true);
    expect(read('infra/cloudbuild.yaml')).toMatch(/"--file", "infra\/Dockerfile"/);
  });

  const invoker = 'edgeinfer-edge@demo-project.iam.gserviceaccount.com';

  it('deploy-cloudrun.sh grants the secrets, renders the service YAML with the image, replaces the service and lets only the edge invoke it', () => {
    const result = run('infra/deploy-cloudrun.sh', { ...project, IMAGE: image, MAX_INSTANCES: '5' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.calls).toEqual([
      'gcloud secrets describe edgeinfer-edge-signing-secret --project=demo-project',
      'gcloud secrets describe edgeinfer-metrics-token --project=demo-project',
      'gcloud projects describe demo-project --format=value(projectNumber)',
      'gcloud secrets add-iam-policy-binding edgeinfer-edge-signing-secret --project=demo-project --member=serviceAccount:123456789-compute@developer.gserviceaccount.com --role=roles/secretmanager.secretAccessor',
      'gcloud secrets add-iam-policy-binding edgeinfer-metrics-token --project=demo-project --member=serviceAccount:123456789-compute@developer.gserviceaccount.com --role=roles/secretmanager.secretAccessor',
      expect.stringMatching(/^gcloud run services replace \S+ --project=demo-project --region=us-central1$/),
      `gcloud iam service-accounts describe ${invoker} --project=demo-project`,
      `gcloud run services add-iam-policy-binding edgeinfer-backend --project=demo-project --region=us-central1 --member=serviceAccount:${invoker} --role=roles/run.invoker`,
      'gcloud run services remove-iam-policy-binding edgeinfer-backend --project=demo-project --region=us-central1 --member=allUsers --role=roles/run.invoker',
      'gcloud run services describe edgeinfer-backend --project=demo-project --region=us-central1 --format=value(status.url)',
    ]);
    expect(result.calls.join('\n')).not.toMatch(/add-iam-policy-binding \S+ .*--member=allUsers/);
    expect(result.stderr).toMatch(/wrangler secret put BACKEND_SERVICE_ACCOUNT_KEY/);
    const rendered = readFileSync(join(state, 'rendered.yaml'), 'utf8');
    expect(rendered).not.toContain('${');
    expect(rendered).toContain(`image: ${image}`);
    expect(rendered).toContain('autoscaling.knative.dev/maxScale: "5"');
    expect(rendered).toContain('serviceAccountName: 123456789-compute@developer.gserviceaccount.com');
    expect(rendered).toMatch(/- name: METRICS_TOKEN\n\s+valueFrom:\n\s+secretKeyRef:\n\s+name: edgeinfer-metrics-token/);
    expect(result.stderr).toMatch(/==> Deployed edgeinfer-backend at https:\/\//);
  });

  it('deploy-cloudrun.sh creates the metrics token as 32 random bytes and the invoker account when they are missing', () => {
    rmSync(join(state, 'created-secret'), { force: true });
    const result = run('infra/deploy-cloudrun.sh', { ...project, IMAGE: image, NO_METRICS_SECRET: '1', NO_INVOKER: '1' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.calls).toContain('gcloud secrets create edgeinfer-metrics-token --project=demo-project --data-file=-');
    expect(readFileSync(join(state, 'created-secret'), 'utf8')).toMatch(/^[0-9a-f]{64}$/);
    expect(result.calls).toContain(
      'gcloud iam service-accounts create edgeinfer-edge --project=demo-project --display-name=edgeinfer edge (invokes the GPU backend)',
    );
  });

  it('deploy-cloudrun.sh grants allUsers only when ALLOW_PUBLIC=1, and refuses other values', () => {
    const open = run('infra/deploy-cloudrun.sh', { ...project, IMAGE: image, ALLOW_PUBLIC: '1' });
    expect(open.status, open.stderr).toBe(0);
    expect(open.calls).toContain(
      'gcloud run services add-iam-policy-binding edgeinfer-backend --project=demo-project --region=us-central1 --member=allUsers --role=roles/run.invoker',
    );
    expect(open.calls.some((call) => call.includes(invoker))).toBe(false);
    const bad = run('infra/deploy-cloudrun.sh', { ...project, IMAGE: image, ALLOW_PUBLIC: 'yes' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/ALLOW_PUBLIC must be 0 or 1/);
    expect(bad.calls).toEqual([]);
  });

  it('deploy-cloudrun.sh stops before deploying when the secret does not exist', () => {
    const result = run('infra/deploy-cloudrun.sh', { ...project, IMAGE: image, NO_SECRET: '1' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/gcloud secrets create edgeinfer-edge-signing-secret/);
    expect(result.calls.some((call) => call.includes('run services replace'))).toBe(false);
  });

  it('deploy-vertex.sh uploads, creates the endpoint, deploys on an L4 with all traffic, then canaries the next version', () => {
    rmSync(join(state, 'endpoint'), { force: true });
    rmSync(join(state, 'deployed'), { force: true });
    const first = run('infra/deploy-vertex.sh', { ...project, IMAGE: image, TAG: 'abc123', VERTEX_MODEL: 'paddleocr-rec' });
    expect(first.status, first.stderr).toBe(0);
    const upload = first.calls.find((call) => call.startsWith('gcloud ai models upload'))!;
    for (const flag of [
      `--container-image-uri=${image}`,
      '--container-ports=8080',
      '--container-health-route=/health',
      '--container-predict-route=/predict',
      '--model-id=edgeinfer-backend-abc123',
      '--container-env-vars=EDGE_SIGNATURE_REQUIRED=false,VERTEX_MODEL=paddleocr-rec',
    ]) {
      expect(upload).toContain(flag);
    }
    expect(first.calls).toContain(
      'gcloud ai endpoints create --project=demo-project --region=us-central1 --display-name=edgeinfer-backend',
    );
    const deploy = first.calls.find((call) => call.startsWith('gcloud ai endpoints deploy-model'))!;
    expect(deploy).toMatch(/^gcloud ai endpoints deploy-model 4242 /);
    for (const flag of [
      '--model=edgeinfer-backend-abc123',
      '--machine-type=g2-standard-8',
      '--accelerator=type=nvidia-l4,count=1',
      '--traffic-split=0=100',
    ]) {
      expect(deploy).toContain(flag);
    }

    const second = run('infra/deploy-vertex.sh', { ...project, IMAGE: image, TAG: 'def456', CANARY_PERCENT: '20' });
    expect(second.status, second.stderr).toBe(0);
    expect(second.calls.some((call) => call.startsWith('gcloud ai endpoints create'))).toBe(false);
    expect(second.calls.find((call) => call.startsWith('gcloud ai endpoints deploy-model'))).toContain('--traffic-split=0=20,1000=80');
    expect(second.stderr).toContain('--traffic-split=1001=100');
  });

  it('deploy-vertex.sh refuses a canary share outside 1..100', () => {
    const result = run('infra/deploy-vertex.sh', { ...project, IMAGE: image, CANARY_PERCENT: '150' });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/CANARY_PERCENT must be 1\.\.100/);
  });
});

describe('health routes the platforms probe, on a real backend', () => {
  let server: StartedBackend;
  beforeAll(async () => {
    // As Vertex AI starts the container: it passes the upload's routes as AIP_* variables.
    server = await startTestBackend({
      AIP_HEALTH_ROUTE: scriptFlag('container-health-route'),
      AIP_PREDICT_ROUTE: scriptFlag('container-predict-route'),
    });
  });
  afterAll(() => server?.stop());

  it.each([
    ['the Dockerfile HEALTHCHECK', () => healthcheckPath()],
    ['the Cloud Run startup probe', () => yamlPaths('startupProbe')],
    ['the Cloud Run liveness probe', () => yamlPaths('livenessProbe')],
    ['the Vertex AI health route', () => scriptFlag('container-health-route')],
  ])('%s answers 200 once models are loaded', async (_what, path) => {
    const res = await server.fetch(path());
    expect(res.status).toBe(200);
  });

  it('refuses whatever the edge did not sign, and /metrics without its token, as a public service must', async () => {
    for (const path of ['/v2/models/paddleocr-rec/infer', '/v1/ocr', '/v1/vad', scriptFlag('container-predict-route')]) {
      const res = await server.fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(res.status, path).toBe(401);
    }
    expect((await server.fetch('/metrics')).status).toBe(401);
  });
});
