// An export's lines as CSV (RFC 4180, one header line) or JSON, with the totals a reader checks an
// invoice against.

import type { ExportLine } from '../../protocol/usage.ts';

const csvField = (value: string | number) => {
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

export function exportCsv(lines: readonly ExportLine[]): string {
  const header = ['key_id', 'date', 'model', 'requests', 'units', 'cost', 'currency'];
  const rows = lines.map((l) => [l.keyId, l.date, l.model, l.requests, l.units, l.cost, l.currency].map(csvField).join(','));
  return `${[header.join(','), ...rows].join('\n')}\n`;
}

export function exportTotals(lines: readonly ExportLine[]): { requests: number; units: number; cost: number } {
  const micros = lines.reduce((sum, l) => sum + Math.round(l.cost * 1_000_000), 0);
  return {
    requests: lines.reduce((sum, l) => sum + l.requests, 0),
    units: lines.reduce((sum, l) => sum + l.units, 0),
    cost: micros / 1_000_000,
  };
}

export function exportJson(range: { from: string; to: string }, currency: string, lines: readonly ExportLine[]): string {
  return `${JSON.stringify({ ...range, currency, lines, total: exportTotals(lines) }, null, 2)}\n`;
}
