// `npm run test:vscode`: the e2e scenarios through the VS Code API (src/test/vscode-suite.ts), with
// the repository as the extension under development.
//   default        a desktop VS Code downloaded by @vscode/test-electron (needs access to
//                  update.code.visualstudio.com; SPECTER_VSCODE_VERSION pins a version);
//   --code-server  the same suite in code-server (scripts/e2e/setup.sh) through Chromium, for
//                  machines that cannot download VS Code. The workbench gets the extension
//                  development and tests paths through its `payload` URL parameter.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { runTests } from '@vscode/test-electron';
import { startCodeServer } from '../e2e/code-server';
import { launchBrowser } from '../e2e/workbench';

const root = path.resolve(__dirname, '..', '..');

interface Prepared {
  base: string;
  workspace: string;
  suite: string;
  env: Record<string, string>;
}

async function prepare(): Promise<Prepared> {
  // The extension under test is the repository itself: dist/ must be current.
  await import(path.join(root, 'tools', 'build.mjs'));
  const suite = path.join(root, 'out', 'vscode-tests', 'suite.js');
  await build({
    entryPoints: [path.join(root, 'src', 'test', 'vscode-suite.ts')],
    outfile: suite,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
    logLevel: 'warning',
  });
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'specter-vscode-'));
  const workspace = path.join(base, 'workspace');
  fs.mkdirSync(path.join(workspace, 'src'), { recursive: true });
  fs.writeFileSync(
    path.join(workspace, 'src', 'stats.ts'),
    'export function sum(values: number[]): number {\n  let total = 0;\n  for (const value of values) {\n    total += value;\n  }\n  return total;\n}\n\nexport function average(values: number[]): number {\n  \n}\n',
  );
  const copy = path.join(base, 'models', 'tiny-copy');
  fs.cpSync(path.join(root, 'models', 'specter-tiny'), copy, { recursive: true, filter: (src) => !src.endsWith('.safetensors') });
  const broken = path.join(base, 'models', 'broken');
  fs.mkdirSync(path.join(broken, 'onnx'), { recursive: true });
  fs.writeFileSync(path.join(broken, 'config.json'), '{ "model_type": "llama" }');
  return { base, workspace, suite, env: { SPECTER_TEST_MODEL_COPY: copy, SPECTER_TEST_MODEL_BROKEN: broken } };
}

async function runDesktop(p: Prepared): Promise<number> {
  const version = process.env['SPECTER_VSCODE_VERSION'];
  return runTests({
    ...(version !== undefined ? { version } : {}),
    extensionDevelopmentPath: root,
    extensionTestsPath: p.suite,
    extensionTestsEnv: p.env,
    launchArgs: [p.workspace, '--disable-extensions', '--disable-workspace-trust', '--user-data-dir', path.join(p.base, 'user-data')],
  });
}

/** Runs the suite in code-server; the verdict is the suite's "# fail N" line in the browser console. */
async function runCodeServer(p: Prepared): Promise<number> {
  const vsix = path.join(p.base, 'empty.vsix');
  const server = await startCodeServer({ vsix, workspace: p.workspace, userSettings: { 'workbench.startupEditor': 'none' }, env: p.env, installVsix: false });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    const authority = new URL(server.url).host;
    const payload = [
      ['extensionDevelopmentPath', `vscode-remote://${authority}${root}`],
      ['extensionTestsPath', `vscode-remote://${authority}${p.suite}`],
    ];
    const verdict = new Promise<number>((resolve) => {
      page.on('console', (message) => {
        const text = message.text();
        // Suite lines arrive as console messages of the extension host, after a log prefix.
        const at = text.search(/(not ok - |ok - |# pass \d)/);
        if (at >= 0) console.log(text.slice(at));
        const fail = /# fail (\d+)/.exec(text)?.[1];
        if (fail !== undefined) resolve(Number(fail) > 0 ? 1 : 0);
      });
    });
    await page.goto(`${server.url}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
    const tLimitMs = 10 * 60_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<number>((resolve) => {
      timer = setTimeout(() => {
        console.log(`# the suite did not finish within ${tLimitMs / 60_000} minutes`);
        resolve(1);
      }, tLimitMs);
    });
    const code = await Promise.race([verdict, timeout]);
    clearTimeout(timer);
    return code;
  } finally {
    await browser.close();
    await server.stop();
  }
}

async function main(): Promise<void> {
  const prepared = await prepare();
  const code = process.argv.includes('--code-server') ? await runCodeServer(prepared) : await runDesktop(prepared);
  fs.rmSync(prepared.base, { recursive: true, force: true });
  process.exit(code);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
