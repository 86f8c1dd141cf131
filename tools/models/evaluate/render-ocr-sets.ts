// `node tools/models/evaluate/render-ocr-sets.ts`: renders the printed-text OCR evaluation images
// (test/fixtures/evaluation/ocr-printed/) with ImageMagick and writes truth.json, the lines as printed.
// The images are committed and hashed, as the calibration sets are: ImageMagick and its fonts change
// between releases, and a set rendered again elsewhere would not be the same set. Run it only to change
// the set (and then re-evaluate every OCR version).
//
// Image names are `<set>--<name>.<png|jpg>`; the part before `--` is the set a figure is reported for:
//   lines  one line each, four fonts at 14, 20, 28 and 40 px, PNG
//   jpeg   one line each, four fonts, JPEG at quality 75 to 90
//   pages  pages of several lines at ordinary spacing (PNG and one JPEG)
//   dense  pages with the lines set tight (no space between them)
//   table  a two-column table (label and value), drawn cell by cell
//   noise  lines with light Gaussian noise and a slight blur, PNG and JPEG
//   turned a page and a line turned upside down (the direction classifier is measured too)

import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const outDir = join(import.meta.dirname, '../../../test/fixtures/evaluation/ocr-printed');

type Font = 'DejaVu-Sans' | 'Liberation-Serif' | 'Liberation-Sans' | 'Liberation-Mono';
const fonts: Font[] = ['DejaVu-Sans', 'Liberation-Serif', 'Liberation-Sans', 'Liberation-Mono'];
const short: Record<Font, string> = {
  'DejaVu-Sans': 'dejavu',
  'Liberation-Serif': 'serif',
  'Liberation-Sans': 'sans',
  'Liberation-Mono': 'mono',
};

// Texts free of glyphs no reader can tell apart in some font (I and l, O and 0, | and 1).
const phrases = [
  'Invoice 2041 due 30 June',
  'Total: 118.40 EUR',
  'Ship to 14 Harbour Road',
  'Meeting moved to 3:15 pm',
  'Batch 88 passed all checks',
  'Call us at 555 0199',
  'Room 12B, second floor',
  'Weight 2.5 kg per unit',
  'Tickets sold out by noon',
  'Update the firmware today',
  'Net price after tax: 96.20',
  'Gate closes at 7:45 sharp',
  'Keep this receipt safe',
  'Order #5520 was delivered',
  'Report due on 28 March',
  'Serial QX-4096 verified',
];

interface Render {
  name: string;
  lines: string[];
  args: string[];
  /** Extension and the options that write it. */
  format: 'png' | { quality: number };
}

function label(font: Font, px: number, lines: string[], spacing: number, border: number): string[] {
  return [
    '-background',
    'white',
    '-fill',
    'black',
    '-font',
    font,
    '-pointsize',
    String(px),
    '-interline-spacing',
    String(spacing),
    `label:${lines.join('\n')}`,
    '-bordercolor',
    'white',
    '-border',
    String(border),
  ];
}

const renders: Render[] = [];
let next = 0;
const phrase = () => phrases[next++ % phrases.length]!;

// lines: every font at four sizes.
for (const font of fonts)
  for (const px of [14, 20, 28, 40]) {
    const text = phrase();
    renders.push({
      name: `lines--${short[font]}-${px}`,
      lines: [text],
      args: label(font, px, [text], 0, Math.round(px * 0.8)),
      format: 'png',
    });
  }

// jpeg: every font at two sizes, four qualities.
fonts.forEach((font, i) => {
  for (const [j, px] of [18, 32].entries()) {
    const text = phrase();
    const quality = [75, 80, 85, 90][(i + j) % 4]!;
    renders.push({
      name: `jpeg--${short[font]}-${px}-q${quality}`,
      lines: [text],
      args: label(font, px, [text], 0, Math.round(px * 0.8)),
      format: { quality },
    });
  }
});

const pageTexts = [
  [
    'Dear customer, thank you for',
    'your order of 12 March 2025.',
    'The parcel left our warehouse',
    'in Hamburg this morning and',
    'should arrive within 3 days.',
    'Tracking number: DE 4471 9920',
  ],
  [
    'Minutes of the board meeting',
    'Present: five of seven members',
    'Budget for 2026 was approved',
    'Next review on 9 September',
    'Action: send the draft to all',
  ],
  ['Step 1: unplug the device', 'Step 2: remove the back cover', 'Step 3: replace the battery', 'Step 4: close and switch on'],
  ['Weather for the coming week', 'Monday: rain, 12 to 15 degrees', 'Tuesday: cloudy, light wind', 'Wednesday: sunny and warm'],
];

// pages: ordinary spacing.
renders.push({ name: 'pages--dejavu-22', lines: pageTexts[0]!, args: label('DejaVu-Sans', 22, pageTexts[0]!, 10, 30), format: 'png' });
renders.push({ name: 'pages--serif-26', lines: pageTexts[1]!, args: label('Liberation-Serif', 26, pageTexts[1]!, 12, 30), format: 'png' });
renders.push({ name: 'pages--mono-18', lines: pageTexts[2]!, args: label('Liberation-Mono', 18, pageTexts[2]!, 8, 24), format: 'png' });
renders.push({
  name: 'pages--sans-24-q85',
  lines: pageTexts[3]!,
  args: label('Liberation-Sans', 24, pageTexts[3]!, 10, 30),
  format: { quality: 85 },
});

// dense: no space between lines (ImageMagick's own line height), and tighter still.
renders.push({ name: 'dense--dejavu-16', lines: pageTexts[1]!, args: label('DejaVu-Sans', 16, pageTexts[1]!, 0, 20), format: 'png' });
renders.push({ name: 'dense--serif-20', lines: pageTexts[0]!, args: label('Liberation-Serif', 20, pageTexts[0]!, -3, 20), format: 'png' });
renders.push({
  name: 'dense--sans-18-q80',
  lines: pageTexts[2]!,
  args: label('Liberation-Sans', 18, pageTexts[2]!, -2, 20),
  format: { quality: 80 },
});

// table: label and value columns, each cell drawn where a table would put it.
const tableRows = [
  ['Item', 'Amount'],
  ['Rent for May', '1250.00'],
  ['Electricity', '86.35'],
  ['Water and heating', '42.10'],
  ['Internet', '29.99'],
  ['Total due', '1408.44'],
];
for (const [font, px, rowHeight, name] of [
  ['DejaVu-Sans', 20, 34, 'table--dejavu-20'],
  ['Liberation-Serif', 24, 38, 'table--serif-24'],
] as const) {
  const draw = tableRows.flatMap(([left, right], i) => [
    '-annotate',
    `+24+${30 + Math.round(px * 0.8) + i * rowHeight}`,
    left!,
    '-annotate',
    `+${24 + px * 13}+${30 + Math.round(px * 0.8) + i * rowHeight}`,
    right!,
  ]);
  renders.push({
    name,
    lines: tableRows.flat(),
    args: [
      '-size',
      `${px * 19}x${60 + tableRows.length * rowHeight}`,
      'xc:white',
      '-font',
      font,
      '-pointsize',
      String(px),
      '-fill',
      'black',
      ...draw,
    ],
    format: 'png',
  });
}

// noise: light Gaussian noise after a slight blur, as a scan or a photo of a screen has.
fonts.forEach((font, i) => {
  const px = [20, 26, 32, 24][i]!;
  const text = phrase();
  renders.push({
    name: `noise--${short[font]}-${px}`,
    lines: [text],
    args: [
      ...label(font, px, [text], 0, Math.round(px * 0.8)),
      '-seed',
      String(11 + i),
      '-blur',
      '0x0.5',
      '-attenuate',
      '0.4',
      '+noise',
      'Gaussian',
    ],
    format: i % 2 === 0 ? 'png' : { quality: 85 },
  });
});

// turned: upside down, read in the turned page's order.
const turnedPage = ['Turn this page around', 'Lines read bottom first', 'Serial number QX-4096'];
renders.push({
  name: 'turned--dejavu-24-page',
  lines: turnedPage,
  args: [...label('DejaVu-Sans', 24, turnedPage, 10, 30), '-rotate', '180'],
  format: 'png',
});
renders.push({
  name: 'turned--serif-30-q85',
  lines: ['Shipping to Hamburg on 12 March'],
  args: [...label('Liberation-Serif', 30, ['Shipping to Hamburg on 12 March'], 0, 24), '-rotate', '180'],
  format: { quality: 85 },
});

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const truth: Record<string, string[]> = {};
for (const render of renders) {
  const file = `${render.name}.${render.format === 'png' ? 'png' : 'jpg'}`;
  const output =
    render.format === 'png'
      ? ['-type', 'Grayscale', '-strip', join(outDir, file)]
      : ['-strip', '-quality', String(render.format.quality), join(outDir, file)];
  execFileSync('/usr/bin/convert', [...render.args, ...output]);
  truth[file] = render.lines;
}
const sorted = Object.fromEntries(Object.entries(truth).sort(([a], [b]) => (a < b ? -1 : 1)));
writeFileSync(join(outDir, 'truth.json'), `${JSON.stringify(sorted, null, 1)}\n`);
console.log(`${readdirSync(outDir).length - 1} images, ${Object.values(truth).flat().length} lines in ${outDir}`);
