// protocol/webhooks.ts against the Standard Webhooks specification's own test vector.

import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook } from '../../protocol/webhooks.ts';

const vector = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

describe('Standard Webhooks signatures', () => {
  it("signs the specification's test vector to its signature", async () => {
    const headers = await signWebhook(vector.secret, vector.id, vector.timestamp, vector.body);
    expect(headers).toEqual({
      'webhook-id': vector.id,
      'webhook-timestamp': String(vector.timestamp),
      'webhook-signature': vector.signature,
    });
  });

  it('verifies it within the tolerance, among several signatures', async () => {
    const headers = {
      'webhook-id': vector.id,
      'webhook-timestamp': String(vector.timestamp),
      'webhook-signature': `v1,bm90IGl0 ${vector.signature}`,
    };
    expect(await verifyWebhook(vector.secret, headers, vector.body, { nowSeconds: vector.timestamp + 10 })).toEqual({ valid: true });
  });

  it('refuses a changed body, an old timestamp and missing headers', async () => {
    const headers = { 'webhook-id': vector.id, 'webhook-timestamp': String(vector.timestamp), 'webhook-signature': vector.signature };
    const at = { nowSeconds: vector.timestamp };
    expect((await verifyWebhook(vector.secret, headers, '{"test": 2432232315}', at)).valid).toBe(false);
    expect((await verifyWebhook(vector.secret, headers, vector.body, { nowSeconds: vector.timestamp + 301 })).valid).toBe(false);
    expect((await verifyWebhook(vector.secret, { 'webhook-id': vector.id }, vector.body, at)).valid).toBe(false);
  });
});
