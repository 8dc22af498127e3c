// Regenerates test/fixtures/golden.json from the embedded model: run after the model changes.
//   node --import tsx tools/update-golden.ts
import * as fs from 'node:fs';
import * as path from 'node:path';
import { goldenSettings, startService } from '../test/server/service-helpers';

interface GoldenPrompt { id: string; uri: string; languageId: string; prefix: string; suffix: string }

async function main(): Promise<void> {
  const fixtures = path.join(__dirname, '..', 'test', 'fixtures');
  const prompts = JSON.parse(fs.readFileSync(path.join(fixtures, 'golden-prompts.json'), 'utf8')) as GoldenPrompt[];
  const { service } = await startService(goldenSettings);
  const golden: Record<string, { text: string; tokens: number[] }> = {};
  for (const prompt of prompts) {
    const result = await service.complete(prompt);
    golden[prompt.id] = result.kind === 'ok' ? { text: result.texts[0] ?? '', tokens: result.tokens } : { text: '', tokens: [] };
    process.stdout.write(`${prompt.id}: ${JSON.stringify(golden[prompt.id]?.text)}\n`);
  }
  fs.writeFileSync(path.join(fixtures, 'golden.json'), `${JSON.stringify(golden, null, 2)}\n`);
  await service.shutdown();
}

void main();
