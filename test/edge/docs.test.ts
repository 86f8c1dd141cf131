import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdgeWorker, type RunningWorker } from '../support/edge-worker.ts';

let edge: RunningWorker;
beforeAll(async () => {
  edge = await startEdgeWorker();
});
afterAll(() => edge?.stop());

type OpenApi = {
  openapi: string;
  paths: Record<
    string,
    Record<string, { parameters?: { name: string; schema: { enum?: string[] } }[]; responses: Record<string, unknown> }>
  >;
  components: {
    schemas: Record<string, { required?: string[]; properties?: Record<string, { type?: string }> }>;
    securitySchemes: Record<string, { type: string }>;
  };
};

describe('API description', () => {
  it('serves an OpenAPI 3.1 document of every v2 route, generated from the request schemas', async () => {
    const res = await edge.fetch('/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as OpenApi;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v2',
        '/v2/health/live',
        '/v2/health/ready',
        '/v2/models/{name}',
        '/v2/models/{name}/infer',
        '/v2/models/{name}/versions/{version}/infer',
      ]),
    );
    const infer = doc.paths['/v2/models/{name}/infer']!.post!;
    expect(infer.parameters!.find((parameter) => parameter.name === 'name')!.schema.enum).toEqual(
      expect.arrayContaining(['silero-vad', 'paddleocr-cls', 'paddleocr-det', 'paddleocr-rec']),
    );
    expect(Object.keys(infer.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '404', '413', '415', '503']));
    expect((infer as { security?: unknown }).security).toEqual([{ bearer: [] }, { apiKey: [] }]);
    expect(doc.components.securitySchemes).toMatchObject({ bearer: { type: 'http' }, apiKey: { type: 'apiKey' } });
    expect((doc.paths['/v2/models/{name}']!.get as { security?: unknown }).security).toBeUndefined();
    const request = doc.components.schemas.InferRequest!;
    expect(request.required).toContain('inputs');
    expect(request.properties!.inputs!.type).toBe('array');
  });

  it('describes the task routes: raw media types and JSON forms, the VAD options as query parameters, work-weighted limits', async () => {
    const doc = (await (await edge.fetch('/openapi.json')).json()) as OpenApi;
    const vad = doc.paths['/v1/vad']!.post! as unknown as {
      requestBody: { content: Record<string, unknown> };
      parameters: { name: string }[];
      responses: Record<string, unknown>;
    };
    expect(Object.keys(vad.requestBody.content)).toEqual(expect.arrayContaining(['audio/wav', 'application/json']));
    expect(vad.parameters.map((p) => p.name)).toEqual(expect.arrayContaining(['threshold', 'min_silence_duration_ms', 'speech_pad_ms']));
    expect(Object.keys(vad.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '413', '415', '429']));
    const ocr = doc.paths['/v1/ocr']!.post! as unknown as { requestBody: { content: Record<string, unknown> } };
    expect(Object.keys(ocr.requestBody.content)).toEqual(expect.arrayContaining(['image/png', 'image/jpeg', 'application/json']));
    expect(doc.components.schemas.OcrResponse!.required).toEqual(expect.arrayContaining(['text', 'lines', 'width', 'height', 'models']));
    expect(doc.paths['/v1/usage']!.get).toBeDefined();
    const page = await (await edge.fetch('/docs')).text();
    expect(page).toContain('/v1/vad');
    expect(page).toContain('/v1/ocr');
  });

  it('serves a reference page with no scripts or outside resources, under a CSP that allows none', async () => {
    const res = await edge.fetch('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    const page = await res.text();
    expect(page).toContain('/v2/models/{name}/infer');
    expect(page).toContain('silero-vad');
    expect(page).not.toMatch(/<script|https?:\/\/(?!127\.0\.0\.1)/);
  });

  it('renders parameters, schemas and examples, sizes as people read them, and no Markdown backticks', async () => {
    const page = await (await edge.fetch('/docs')).text();
    expect(page).toContain('<h4>Parameters</h4>');
    expect(page).toContain('id="schema-InferRequest"');
    expect(page).toContain('href="#schema-InferResponse"');
    expect(page).toMatch(/<summary>example<\/summary>/);
    expect(page).toMatch(/\d+ MiB per file/);
    expect(page).not.toMatch(/\d{7,} bytes/);
    expect(page).not.toContain('`');
  });
});
