// A harness Worker for tests: builds the edge's app exactly as edge/index.ts does (same bundle, same
// configuration from the same bindings) and answers the routes it registered, as JSON, so a test can
// compare them with what the app publishes (its OpenAPI document).

import { parseEdgeConfig } from '../../edge/config.ts';
import { bundledModels } from '../../edge/models.generated.ts';
import { buildApp } from '../../edge/worker.ts';

export default {
  fetch(_request: Request, env: Record<string, unknown>): Response {
    const app = buildApp(bundledModels, parseEdgeConfig(env));
    return Response.json(app.routes.map(({ method, path }) => ({ method, path })));
  },
};
