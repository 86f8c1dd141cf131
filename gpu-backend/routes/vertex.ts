// Vertex AI's custom-container routes: AIP_HEALTH_ROUTE answers like /v2/health/ready, and
// AIP_PREDICT_ROUTE maps instances to batch rows as documented in ../vertex.ts.

import { Hono } from 'hono';
import { parseJson, requireMediaType } from '../../protocol/body.ts';
import { InvalidInput, PayloadTooLarge } from '../../protocol/errors.ts';
import { maxJsonValues } from '../../models/infer-request.ts';
import { providerHeader } from '../../protocol/tasks.ts';
import type { BackendDeps } from '../context.ts';
import { type BackendEnv, bufferedBody } from '../middleware/body.ts';
import { requestMetrics } from '../middleware/request-metrics.ts';
import { decodeVertexRequest, encodePredictions, parseVertexRequest } from '../vertex.ts';
import { providerOf, readyHandler } from './v2.ts';

export function vertexRoutes(deps: BackendDeps): Hono<BackendEnv> {
  const { registry, runtime, inference, metrics, vertex } = deps;
  const app = new Hono<BackendEnv>();
  // The model is not in the path, so the body limits are the largest any served model accepts.
  const manifests = [...registry.manifests.values()];
  const maxRequestBytes = Math.max(0, ...manifests.map((m) => m.limits.maxRequestBytes));
  const maxValues = Math.max(0, ...manifests.map(maxJsonValues));

  app.get(vertex.healthRoute, readyHandler(deps));

  app.post(
    vertex.predictRoute,
    requestMetrics(metrics),
    // The signature was checked before this (app.ts); the body is read up to its signed length.
    bufferedBody({ maxBytes: () => maxRequestBytes }),
    async (c) => {
      requireMediaType(c.req.header('content-type'), ['application/json']);
      const request = parseVertexRequest(parseJson(c.get('body'), maxValues));
      const { model: name = vertex.model, version } = request.parameters ?? {};
      if (typeof name !== 'string') throw new InvalidInput('parameters.model must name the model to run (the server has no VERTEX_MODEL)');
      if (version !== undefined && typeof version !== 'string') throw new InvalidInput('parameters.version must be a string');
      const resolved = registry.resolve(name, version);
      c.set('model', resolved);
      if (c.get('body').byteLength > resolved.manifest.limits.maxRequestBytes) {
        throw new PayloadTooLarge(`request body exceeds model '${name}''s limit of ${resolved.manifest.limits.maxRequestBytes} bytes`);
      }
      runtime.ensureReady(resolved);
      const outputs = await inference.infer(resolved, decodeVertexRequest(request, resolved.manifest));
      c.header('x-edgeinfer-tier', 'gpu');
      c.header(providerHeader, providerOf(runtime, resolved));
      return c.json(encodePredictions(resolved.manifest, outputs, request.instances.length));
    },
  );
  return app;
}
