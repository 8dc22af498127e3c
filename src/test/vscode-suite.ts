// The e2e scenarios of test/e2e, run inside a desktop VS Code by @vscode/test-electron
// (`npm run test:vscode`, test/vscode/run.ts). It lives in src/ because it imports `vscode`
// (DESIGN.md layering); it is bundled to out/vscode-tests/suite.js and never shipped.
// Waits are on events (status notifications, document changes), with timeouts.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { SpecterApi } from '../extension';

type Scenario = [name: string, run: (api: SpecterApi) => Promise<string | void>];

function waitFor<T>(event: vscode.Event<T>, predicate: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      subscription.dispose();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const subscription = event((value) => {
      if (!predicate(value)) return;
      clearTimeout(timer);
      subscription.dispose();
      resolve(value);
    });
  });
}

async function waitForStatus(api: SpecterApi, pattern: RegExp, timeoutMs = 120_000): Promise<string> {
  if (pattern.test(api.status().text)) return api.status().text;
  await waitFor(api.onStatus, () => pattern.test(api.status().text), timeoutMs, `status ${pattern}`);
  return api.status().text;
}

/**
 * Triggers inline completion and commits it once it is there (the ghost text is rendered some time
 * after the server answers, and a cached answer sends no status): the commit is repeated until the
 * document changes. Returns the new text.
 */
async function completeAndCommit(editor: vscode.TextEditor): Promise<string> {
  const before = editor.document.getText();
  const changed = waitFor(
    vscode.workspace.onDidChangeTextDocument,
    (e) => e.document === editor.document && e.contentChanges.length > 0,
    90_000,
    'a completion to commit',
  );
  await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
  const retry = setInterval(() => void vscode.commands.executeCommand('editor.action.inlineSuggest.commit'), 250);
  try {
    await changed;
  } finally {
    clearInterval(retry);
  }
  const after = editor.document.getText();
  assert.ok(after.length > before.length, 'the document grew');
  return after;
}

const scenarios: Scenario[] = [
  [
    '1. a completion in a TypeScript file is inserted on commit (Tab)',
    async () => {
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
      const document = await vscode.workspace.openTextDocument(path.join(folder, 'src', 'stats.ts'));
      const editor = await vscode.window.showTextDocument(document);
      const line = 9; // zero-based: the empty line inside average()
      await editor.edit((b) => b.insert(new vscode.Position(line, 2), 'const count = values.length;'));
      editor.selection = new vscode.Selection(line, 30, line, 30);
      const after = await completeAndCommit(editor);
      assert.ok(after.includes('const count = values.length;'));
    },
  ],
  [
    '2. Alt+] (showNext) cycles when more than one suggestion is offered',
    async () => {
      await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
      await vscode.commands.executeCommand('editor.action.inlineSuggest.showNext');
      // The API does not expose the suggestions shown; the code-server suite checks the counter.
      return 'todo: pending on multi-draft (the server offers one suggestion)';
    },
  ],
  [
    '3. Toggle Completions and Select Model change the status bar',
    async (api) => {
      await vscode.commands.executeCommand('specter.toggle');
      await waitForStatus(api, /disabled/);
      await vscode.commands.executeCommand('specter.toggle');
      await waitForStatus(api, /Specter: specter-tiny/);
      const copy = process.env['SPECTER_TEST_MODEL_COPY'];
      assert.ok(copy !== undefined, 'test/vscode/run.ts passes a copy of the embedded model');
      await vscode.commands.executeCommand('specter.selectModel', copy);
      await waitForStatus(api, new RegExp(`Specter: ${path.basename(copy)}`));
    },
  ],
  [
    '4. a broken specter.model shows the error, no modal, and fixing it recovers',
    async (api) => {
      const broken = process.env['SPECTER_TEST_MODEL_BROKEN'];
      assert.ok(broken !== undefined);
      const config = vscode.workspace.getConfiguration('specter');
      await config.update('model', broken, vscode.ConfigurationTarget.Workspace);
      await waitForStatus(api, /Specter: error/);
      await config.update('model', undefined, vscode.ConfigurationTarget.Workspace);
      await waitForStatus(api, /Specter: tiny-copy/);
    },
  ],
];

/** Entry point called by @vscode/test-electron; prints TAP-like `# pass` / `# fail` lines. */
export async function run(): Promise<void> {
  const extension = vscode.extensions.getExtension<SpecterApi>('specter-dev.specter');
  assert.ok(extension !== undefined, 'the Specter extension is installed');
  const api = await extension.activate();
  await waitForStatus(api, /Specter: (specter-tiny|error)/);
  let nPass = 0;
  let nFail = 0;
  for (const [name, scenario] of scenarios) {
    try {
      const note = await scenario(api);
      nPass++;
      console.log(`ok - ${name}${typeof note === 'string' ? ` # ${note}` : ''}`);
    } catch (error) {
      nFail++;
      console.log(`not ok - ${name}\n  ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }
  console.log(`# pass ${nPass}\n# fail ${nFail}`);
  if (nFail > 0) throw new Error(`${nFail} scenario(s) failed`);
}
