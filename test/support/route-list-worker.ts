// A harness Worker for tests: builds the edge's app exactly as edge/index.ts does (same bundle, same
// configuration from the same bindings) and answers the routes it registered, as JSON, so a test can
// compare them with what the app publishes (its OpenAPI document).

// The app first, as in edge/index.ts: its modules extend zod with `.openapi()` before any schema uses it.
import { buildApp, buildMeter } from '../../edge/worker.ts';
import { parseEdgeConfig } from '../../edge/config.ts';
import { parseJobsConfig } from '../../edge/jobs/config.ts';
import { bundledModels } from '../../edge/models.generated.ts';

// wrangler.toml binds the jobs' Durable Object class, so every entry of this Worker exports it.
export { JobObject } from '../../edge/jobs/job-object.ts';

export default {
  fetch(_request: Request, env: Record<string, unknown>): Response {
    const config = parseEdgeConfig(env);
    const app = buildApp(bundledModels, config, buildMeter(config), parseJobsConfig(env));
    return Response.json(app.routes.map(({ method, path }) => ({ method, path })));
  },
};
