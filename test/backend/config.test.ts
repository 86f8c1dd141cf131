import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../gpu-backend/config.ts';

const secret = { EDGE_SIGNING_SECRET: 'x'.repeat(32) };

describe('parseConfig', () => {
  it('defaults to port 8080, CUDA then CPU, batching on and signatures required', () => {
    const config = parseConfig(secret);
    expect(config).toMatchObject({
      port: 8080,
      executionProviders: ['cuda', 'cpu'],
      batching: { enabled: true, maxQueueDelayMs: undefined, maxQueueSize: 256 },
      signature: { required: true, secret: secret.EDGE_SIGNING_SECRET },
      vertex: { healthRoute: '/health', predictRoute: '/predict' },
    });
    expect(config.modelsDir).toMatch(/models$/);
  });

  it("prefers Vertex's AIP_HTTP_PORT, then Cloud Run's PORT, then BACKEND_PORT", () => {
    expect(parseConfig({ ...secret, BACKEND_PORT: '3' }).port).toBe(3);
    expect(parseConfig({ ...secret, BACKEND_PORT: '3', PORT: '2' }).port).toBe(2);
    expect(parseConfig({ ...secret, BACKEND_PORT: '3', PORT: '2', AIP_HTTP_PORT: '1' }).port).toBe(1);
  });

  it('reads the Vertex routes, providers and batching overrides', () => {
    const config = parseConfig({
      ...secret,
      AIP_HEALTH_ROUTE: '/h',
      AIP_PREDICT_ROUTE: '/p',
      EXECUTION_PROVIDERS: 'CPU',
      BATCHING: 'false',
      MAX_QUEUE_DELAY_MS: '7',
      MAX_QUEUE_SIZE: '9',
      REQUEST_TIMEOUT_MS: '1000',
    });
    expect(config).toMatchObject({
      vertex: { healthRoute: '/h', predictRoute: '/p' },
      executionProviders: ['cpu'],
      batching: { enabled: false, maxQueueDelayMs: 7, maxQueueSize: 9 },
      requestTimeoutMs: 1000,
    });
  });

  it.each([
    ['PORT', 'eighty'],
    ['AIP_HTTP_PORT', '70000'],
    ['EXECUTION_PROVIDERS', 'cuda,tpu'],
    ['MAX_QUEUE_SIZE', '0'],
    ['MAX_QUEUE_DELAY_MS', '-1'],
    ['EDGE_SIGNATURE_REQUIRED', 'yes'],
    ['AIP_PREDICT_ROUTE', 'predict'],
    ['EDGE_SIGNING_SECRET', 'short'],
    ['EDGE_SIGNING_SECRET_PREVIOUS', 'short'],
    ['METRICS_TOKEN', 'short'],
    ['SIGNATURE_NONCES_MAX', '10'],
  ])('fails fast naming %s when it is %j', (name, value) => {
    expect(() => parseConfig({ ...secret, [name]: value })).toThrow(ConfigError);
    expect(() => parseConfig({ ...secret, [name]: value })).toThrow(new RegExp(`${name}:`));
  });

  it('reads the previous signing secret, the nonce bound and the metrics token', () => {
    const config = parseConfig({
      ...secret,
      EDGE_SIGNING_SECRET_PREVIOUS: 'p'.repeat(32),
      SIGNATURE_NONCES_MAX: '5000',
      METRICS_TOKEN: 'm'.repeat(32),
    });
    expect(config.signature).toMatchObject({ required: true, previousSecret: 'p'.repeat(32), maxNonces: 5000 });
    expect(config.metricsToken).toBe('m'.repeat(32));
    expect(parseConfig(secret)).toMatchObject({ signature: { maxNonces: 100_000 }, metricsToken: undefined });
  });

  it('requires the signing secret unless signatures are explicitly turned off', () => {
    expect(() => parseConfig({})).toThrow(/EDGE_SIGNING_SECRET: required/);
    expect(parseConfig({ EDGE_SIGNATURE_REQUIRED: 'false' }).signature).toMatchObject({ required: false, secret: undefined });
  });
});
