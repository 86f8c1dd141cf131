// Cloudflare Workers' platform limits that decide whether the edge fits, with where each is stated.
// Sizes the docs give in MB are taken as 10^6 bytes (the stricter reading); the script limit is MiB.

export type Plan = 'free' | 'paid';

export interface WorkersLimits {
  /**
   * Memory per isolate, shared by every request it handles at once: "Memory 128 MB" (Free and Paid),
   * https://developers.cloudflare.com/workers/platform/limits/#memory; "exceeds the 128 MB memory limit.
   * This is a per-isolate limit, an isolate may be handling multiple requests concurrently",
   * https://developers.cloudflare.com/support/troubleshooting/http-status-codes/cloudflare-1xxx-errors/error-1102
   */
  memoryBytes: number;
  /**
   * Time to parse and execute the global scope at upload: 1 s on every plan (raised from 400 ms,
   * https://developers.cloudflare.com/changelog/2025-10-10-increased-startup-time).
   */
  startupMs: number;
  /**
   * CPU time per request: 10 ms on Free; on Paid 30 s by default, up to 5 min with `limits.cpu_ms`
   * in the Wrangler configuration (https://developers.cloudflare.com/workers/platform/limits/#cpu-time,
   * https://developers.cloudflare.com/changelog/2025-03-25-higher-cpu-limits/).
   */
  cpuMsPerRequest: { free: number; paidDefault: number; paidMax: number };
  /**
   * Worker size: 64 MiB uncompressed on every plan ("Worker size 64 MiB | 64 MiB",
   * https://developers.cloudflare.com/workers/platform/limits/#worker-size; cloudflare-docs PR 31002,
   * May 2026, which replaced the former compressed limit).
   */
  scriptRawBytes: number;
  /**
   * The former limit after compression, 3 MB on Free and 10 MB on Paid ("A Worker can be up to 10 MB in
   * size after compression on the Workers Paid plan, and up to 3 MB on the Workers Free plan",
   * developers.cloudflare.com/workers/observability/errors/, cloudflare-docs PR 18400). Reported, not
   * enforced: an account still under it would refuse the upload.
   */
  scriptGzipBytes: { free: number; paid: number };
}

const MB = 1_000_000;
const MiB = 1024 * 1024;

export const workersLimits: WorkersLimits = {
  memoryBytes: 128 * MB,
  startupMs: 1000,
  cpuMsPerRequest: { free: 10, paidDefault: 30_000, paidMax: 300_000 },
  scriptRawBytes: 64 * MiB,
  scriptGzipBytes: { free: 3 * MB, paid: 10 * MB },
};
