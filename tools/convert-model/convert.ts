// `npm run convert-model -- DIR [--variant NAME] [--force]`: gives a standard decoder export
// (input_ids only) the inputs_embeds graph and embedding table superposed decoding needs.
import { convertModelDir, ConvertError } from './convert-lib';

async function main(argv: readonly string[]): Promise<void> {
  let dir: string | undefined;
  let variant: string | undefined;
  let force = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--variant') variant = argv[++i];
    else if (a === '--force') force = true;
    else if (a.startsWith('--')) throw new ConvertError(`unknown option ${a}`);
    else dir = a;
  }
  if (dir === undefined) throw new ConvertError('usage: npm run convert-model -- MODEL_DIR [--variant model] [--force]');
  const report = await convertModelDir(dir, { ...(variant === undefined ? {} : { variant }), force, log: (m) => process.stderr.write(`${m}\n`) });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`convert-model: ${error instanceof ConvertError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
