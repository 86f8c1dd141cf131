// A job as the caller reads it (protocol/jobs.ts `Job`), as JSON text: a result is the synchronous
// answer's bytes spliced in whole, never parsed and re-serialised (an infer answer can be megabytes).

import type { Job } from '../../protocol/jobs.ts';
import type { JobRecord } from './job-state.ts';

const iso = (ms: number) => new Date(ms).toISOString();

export function jobViewJson(record: JobRecord, resultJson: string | undefined): string {
  const head: Omit<Job, 'result'> = {
    id: record.id,
    status: record.status,
    ...(record.error !== undefined && { error: record.error }),
    created_at: iso(record.createdAtMs),
    ...(record.finishedAtMs !== undefined && { finished_at: iso(record.finishedAtMs) }),
  };
  const text = JSON.stringify(head);
  return resultJson === undefined ? text : `${text.slice(0, -1)},"result":${resultJson}}`;
}
