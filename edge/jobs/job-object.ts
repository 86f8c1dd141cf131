// One Durable Object per job (SQLite storage): its record, the only copy of its state. Transitions are
// edge/jobs/job-state.ts's; this applies them one at a time (a Durable Object runs one call at a
// time) and keeps one alarm set, which dispatches work that went quiet, fails a job past its
// deadline, and deletes the job and its R2 objects once they expire.

import { DurableObject } from 'cloudflare:workers';
import { parseJobsConfig, type JobsConfig } from './config.ts';
import type { JobMessage, QueueSender, R2Store } from './bindings.ts';
import { jobObjects, type JobRecordStore } from './job-object-api.ts';
import {
  type Claim,
  claim,
  fail,
  type JobRecord,
  nextAlarmMs,
  onAlarm,
  type Release,
  release,
  succeed,
  webhookAttempted,
} from './job-state.ts';

const recordKey = 'record';
const requestKey = 'request';
const resultKey = 'result';

export class JobObject extends DurableObject<Record<string, unknown>> implements JobRecordStore {
  #config: JobsConfig | undefined;

  get #jobs(): JobsConfig {
    this.#config ??= parseJobsConfig(this.env);
    return this.#config;
  }

  async #save(record: JobRecord): Promise<void> {
    await this.ctx.storage.put(recordKey, record);
    await this.ctx.storage.setAlarm(nextAlarmMs(record, this.#jobs.policy));
  }

  async create(record: JobRecord, requestBody: Uint8Array | undefined): Promise<void> {
    if (requestBody) await this.ctx.storage.put(requestKey, requestBody);
    await this.#save(record);
  }

  read(): Promise<JobRecord | undefined> {
    return this.ctx.storage.get<JobRecord>(recordKey);
  }

  async view(): Promise<{ record: JobRecord; result: string | undefined } | undefined> {
    const record = await this.read();
    if (!record) return undefined;
    return { record, result: record.status === 'succeeded' ? await this.ctx.storage.get<string>(resultKey) : undefined };
  }

  async claim(nowMs: number): Promise<Claim & { requestBody?: Uint8Array | undefined }> {
    const record = await this.read();
    if (!record) return { action: 'skip' };
    const outcome = claim(record, nowMs, this.#jobs.policy);
    if (outcome.action !== 'skip') await this.#save(outcome.record);
    if (outcome.action !== 'run') return outcome;
    return { ...outcome, requestBody: await this.ctx.storage.get<Uint8Array>(requestKey) };
  }

  async release(nowMs: number, reason: string): Promise<Release> {
    const record = await this.#require();
    const outcome = release(record, nowMs, reason, this.#jobs.policy);
    await this.#save(outcome.record);
    return outcome;
  }

  async finish(nowMs: number, error: string | undefined, result?: string): Promise<JobRecord> {
    const record = await this.#require();
    if (result !== undefined) await this.ctx.storage.put(resultKey, result);
    const finished = error === undefined ? succeed(record, nowMs) : fail(record, nowMs, error);
    await this.#save(finished);
    return finished;
  }

  async webhookAttempted(nowMs: number, error: string | undefined): Promise<JobRecord> {
    const updated = webhookAttempted(await this.#require(), nowMs, error);
    await this.#save(updated);
    return updated;
  }

  override async alarm(): Promise<void> {
    const record = await this.read();
    if (!record) return;
    const { policy, bindings } = this.#jobs;
    const action = onAlarm(record, Date.now(), policy);
    if (action.action === 'expire') {
      await (bindings.data as R2Store).delete([jobObjects.request(record.id), jobObjects.result(record.id)]);
      await this.ctx.storage.deleteAll();
      return;
    }
    // Saved before the dispatch: a dispatch that is lost is made again by the next alarm.
    await this.#save(action.record);
    if (action.dispatch) await (bindings.queue as QueueSender<JobMessage>).send(action.dispatch);
  }

  async #require(): Promise<JobRecord> {
    const record = await this.read();
    if (!record) throw new Error('no such job');
    return record;
  }
}
