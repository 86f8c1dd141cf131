// .dev.vars.example lists every secret and variable the edge's configuration (and its jobs') reads, and nothing else.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { edgeVariableNames } from '../../edge/config.ts';
import { jobsVariableNames } from '../../edge/jobs/config.ts';
import { repoRoot } from '../support/edge-worker.ts';

describe('.dev.vars.example', () => {
  it('names every variable edge/config.ts reads, each once', () => {
    const listed = [...readFileSync(join(repoRoot, '.dev.vars.example'), 'utf8').matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!);
    expect([...listed].sort()).toEqual([...new Set([...edgeVariableNames, ...jobsVariableNames])].sort());
    expect(new Set(listed).size).toBe(listed.length);
  });
});
