// Latency statistics and table printing shared by the benchmarks.

export interface Summary {
  p50: number;
  p99: number;
  mean: number;
  count: number;
}

export function summarise(samplesMs: readonly number[]): Summary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p99: at(0.99), mean: sorted.reduce((a, b) => a + b, 0) / sorted.length, count: sorted.length };
}

export async function timeMs(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

/**
 * Measures several contenders side by side: `rounds` rounds, each running every contender
 * `perRound` times in turn, so drift on a shared machine lands on all of them alike.
 */
export async function interleave(
  contenders: Record<string, () => Promise<unknown>>,
  options: { warmup: number; rounds: number; perRound: number },
): Promise<Record<string, Summary>> {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(contenders).map((name) => [name, []]));
  for (const run of Object.values(contenders)) for (let i = 0; i < options.warmup; i++) await run();
  for (let round = 0; round < options.rounds; round++) {
    for (const [name, run] of Object.entries(contenders)) {
      for (let i = 0; i < options.perRound; i++) samples[name]!.push(await timeMs(run));
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, summarise(values)]));
}

export function printTable(title: string, header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((row) => row.map((cell) => (typeof cell === 'number' ? cell.toFixed(3) : cell)))];
  const widths = header.map((_, col) => Math.max(...cells.map((row) => String(row[col] ?? '').length)));
  const line = (row: (string | number)[]) => `| ${row.map((cell, col) => String(cell).padEnd(widths[col]!)).join(' | ')} |`;
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of cells.slice(1)) console.log(line(row));
}
