// Delivering a finished job to its webhook, signed as Standard Webhooks do (protocol/webhooks.ts).
// Each owner has its own secret, derived from the deployment's WEBHOOK_SIGNING_SECRET, so one tenant's
// secret cannot sign deliveries another tenant would accept.

import { signWebhook, webhookSecret } from '../../protocol/webhooks.ts';

const encoder = new TextEncoder();

/** `whsec_` + HMAC-SHA256(signing secret, owner): stable per owner, nothing stored. */
export async function ownerWebhookSecret(signingSecret: string, owner: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(signingSecret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return webhookSecret(new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(`webhook:${owner}`))));
}

/** A receiver has this long to answer before the attempt counts as failed. */
const deliveryTimeoutMs = 10_000;

/**
 * One attempt: undefined when the receiver answered 2xx, else why not. The `webhook-id` is the job's
 * id, the same on every retry, so a receiver can drop a delivery it already took (at least once).
 */
export async function deliverWebhook(
  target: { url: string; secret: string },
  jobId: string,
  body: string,
  nowSeconds: number,
  fetchImpl: typeof fetch = fetch,
): Promise<string | undefined> {
  const headers = await signWebhook(target.secret, jobId, nowSeconds, body);
  try {
    const response = await fetchImpl(target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal: AbortSignal.timeout(deliveryTimeoutMs),
    });
    await response.body?.cancel();
    return response.ok ? undefined : `the receiver answered ${response.status}`;
  } catch (err) {
    return `the receiver could not be reached: ${(err as Error).message}`;
  }
}
