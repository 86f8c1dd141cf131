// The client's address, which every per-address limit and audit line uses. Cloudflare sets
// CF-Connecting-IP on every request it delivers (and overwrites any the caller sent); locally
// (wrangler dev) there is none, and every caller is one client.

import type { Context } from 'hono';

const localClient = 'local';

export function clientIp(c: Context): string {
  return c.req.header('cf-connecting-ip') ?? localClient;
}
