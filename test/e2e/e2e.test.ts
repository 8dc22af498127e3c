// End-to-end tests in a real VS Code: code-server 4.96.4 with the packaged VSIX installed, driven
// through Debian's Chromium. `npm run test:e2e` (scripts/e2e/setup.sh installs the prerequisites).
// Screenshots of every step go to test-artifacts/e2e/; measurements to test-artifacts/e2e/metrics.json.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { findProcesses, packageVsix, repoRoot, rssMb, startCodeServer, type CodeServer } from './code-server';
import { startFixtureHub, type FixtureHub } from './fixture-hub';
import { launchBrowser, Workbench } from './workbench';

const artifacts = path.join(repoRoot, 'test-artifacts', 'e2e');
const metrics: Record<string, unknown> = {};

const source = [
  'export function sum(values: number[]): number {',
  '  let total = 0;',
  '  for (const value of values) {',
  '    total += value;',
  '  }',
  '  return total;',
  '}',
  '',
  'export function average(values: number[]): number {',
  '  ',
  '}',
  '',
].join('\n');
/** Cursor position for typing: line 10 (1-based), after the two spaces. */
const typeAt = { line: 10, column: 3 };
// Mid-statement, so that any model has something to say.
const typed = 'const count = ';

let base: string;
let workspace: string;
let modelsRoot: string;
let codeServer: CodeServer | undefined;
let browser: Browser | undefined;
let hub: FixtureHub | undefined;
let wb: Workbench;

/**
 * Workspace settings from test 2 on: three drafts per completion (superposed decoding, or branch
 * mode when the model has no model.safetensors, as the packaged embedded model).
 */
const multiDraft = { 'specter.drafts.count': 3 };

function writeWorkspaceSettings(settings: Record<string, unknown>): void {
  fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
  fs.writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify(settings, null, 2));
}

/** RSS of the Specter server process (the one started from the installed extension), in MB. */
function serverRssMb(server: CodeServer): number | undefined {
  const pids = findProcesses(server.extensionsDir).filter((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('dist/server.js');
    } catch {
      return false;
    }
  });
  const rss = pids.map(rssMb).filter((v): v is number => v !== undefined);
  return rss.length > 0 ? Math.round(Math.max(...rss)) : undefined;
}

/**
 * Resolves with the file's content once `done(content)` holds (fs.watch, no sleeping). A save
 * truncates before it writes, so "differs from before" is not a usable signal.
 */
async function waitForFile(file: string, done: (text: string) => boolean, timeoutMs = 30_000): Promise<string> {
  const read = (): string => fs.readFileSync(file, 'utf8');
  if (done(read())) return read();
  return new Promise((resolve, reject) => {
    const watcher = fs.watch(file, () => {
      const text = read();
      if (!done(text)) return;
      clearTimeout(timer);
      watcher.close();
      resolve(text);
    });
    const timer = setTimeout(() => {
      watcher.close();
      reject(new Error(`${file} was not saved within ${timeoutMs} ms`));
    }, timeoutMs);
  });
}

function readSpecterLog(server: CodeServer): string {
  const logs = path.join(server.userDataDir, 'logs');
  if (!fs.existsSync(logs)) return '';
  const files = fs.readdirSync(logs, { recursive: true }).map(String).filter((f) => f.endsWith('Specter.log'));
  return files.map((f) => fs.readFileSync(path.join(logs, f), 'utf8')).join('\n');
}

/**
 * Resolves once the Specter log (written as the extension logs, flushed per line) matches
 * `pattern` after its first `since` characters; polls the file.
 */
async function waitForLog(server: CodeServer, pattern: RegExp, since: number, timeoutMs = 30_000): Promise<string> {
  const tEndMs = Date.now() + timeoutMs;
  for (;;) {
    const text = readSpecterLog(server).slice(since);
    const match = pattern.exec(text);
    if (match !== null) return match[0];
    if (Date.now() >= tEndMs) throw new Error(`the Specter log did not show ${String(pattern)} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

void describe('Specter in a real VS Code (code-server)', () => {
  before(async () => {
    fs.rmSync(artifacts, { recursive: true, force: true });
    fs.mkdirSync(artifacts, { recursive: true });
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'specter-e2e-'));
    workspace = path.join(base, 'workspace');
    modelsRoot = path.join(base, 'models');
    fs.mkdirSync(path.join(workspace, 'src'), { recursive: true });
    fs.writeFileSync(path.join(workspace, 'src', 'stats.ts'), source);
    // A second model for Select Model (a copy of the embedded one) and a broken one for the error path.
    fs.cpSync(path.join(repoRoot, 'models', 'specter-tiny'), path.join(modelsRoot, 'tiny-copy'), {
      recursive: true,
      filter: (src) => !src.endsWith('.safetensors'),
    });
    fs.mkdirSync(path.join(modelsRoot, 'broken', 'onnx'), { recursive: true });
    fs.writeFileSync(path.join(modelsRoot, 'broken', 'config.json'), '{ "model_type": "llama" }');

    const tPackageStartMs = Date.now();
    const vsix = packageVsix(base);
    metrics['packageSeconds'] = (Date.now() - tPackageStartMs) / 1000;
    metrics['vsixBytes'] = fs.statSync(vsix).size;

    // "Download Model" talks to this loopback hub (test-only endpoint; users get HTTPS only).
    hub = await startFixtureHub('acme/tiny-coder', path.join(modelsRoot, 'tiny-copy'));
    codeServer = await startCodeServer({
      vsix,
      env: { SPECTER_TEST_HUB_ENDPOINT: hub.endpoint },
      workspace,
      userSettings: {
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'workbench.enableExperiments': false,
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'extensions.ignoreRecommendations': true,
        'telemetry.telemetryLevel': 'off',
        'update.mode': 'none',
        'git.enabled': false,
        'files.autoSave': 'off',
        // Keep the suggest widget out of the way: Tab must accept the inline completion.
        'editor.quickSuggestions': { other: false, comments: false, strings: false },
        'editor.suggestOnTriggerCharacters': false,
        'editor.inlineSuggest.enabled': true,
        'editor.inlineSuggest.showToolbar': 'always',
        'typescript.validate.enable': false,
        'specter.completion.maxLines': 2,
        'specter.completion.maxTokens': 24,
      },
      machineSettings: { 'specter.modelDirectories': [modelsRoot] },
    });
    browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    wb = new Workbench(page, artifacts);
    const tOpenMs = Date.now();
    await page.goto(codeServer.url);
    await page.locator('.monaco-workbench .part.statusbar').waitFor({ state: 'visible', timeout: 120_000 });
    const ready = await wb.waitForStatus(/Specter: .*(cpu|cuda|dml|coreml|webgpu)|error/);
    metrics['workbenchToReadySeconds'] = (Date.now() - tOpenMs) / 1000;
    await wb.screenshot('00-ready');
    assert.match(ready, /Specter: specter-tiny/, `the embedded model loads: ${ready}`);
    metrics['serverRssMbModelLoaded'] = serverRssMb(codeServer);
  });

  after(async () => {
    if (codeServer !== undefined) {
      const log = readSpecterLog(codeServer);
      const activated = /Activated in (\d+) ms/.exec(log);
      if (activated?.[1] !== undefined) metrics['activationMs'] = Number(activated[1]);
      const initialized = /Server initialized in (\d+) ms/.exec(log);
      if (initialized?.[1] !== undefined) metrics['serverInitializedMs'] = Number(initialized[1]);
      const loaded = /ready on \w+ in (\d+) ms/.exec(log);
      if (loaded?.[1] !== undefined) metrics['modelLoadMs'] = Number(loaded[1]);
      fs.writeFileSync(path.join(artifacts, 'code-server.log'), codeServer.output());
      fs.writeFileSync(path.join(artifacts, 'specter.log'), readSpecterLog(codeServer));
    }
    fs.writeFileSync(path.join(artifacts, 'metrics.json'), JSON.stringify(metrics, null, 2));
    console.log(`# e2e metrics ${JSON.stringify(metrics)}`);
    await browser?.close();
    await codeServer?.stop();
    await hub?.close();
    if (process.env['SPECTER_E2E_KEEP'] !== '1') {
      fs.rmSync(base, { recursive: true, force: true });
      if (codeServer !== undefined) fs.rmSync(path.dirname(codeServer.userDataDir), { recursive: true, force: true });
    }
  });

  void it('1. ghost text appears while typing in a TypeScript file and Tab accepts it', async () => {
    await wb.openFile('stats.ts');
    await wb.goTo(typeAt.line, typeAt.column);
    await wb.page.keyboard.type(typed, { delay: 20 });
    const tTypedMs = Date.now();
    // Automatic trigger first; if the model had nothing to say, Alt+\ (Specter: Trigger Completion).
    const ghost = await wb.waitForGhostText(45_000).catch(async () => {
      await wb.page.keyboard.press('Alt+Backslash');
      return wb.waitForGhostText(45_000);
    });
    metrics['typedToGhostTextMs'] = Date.now() - tTypedMs;
    await wb.screenshot('01-ghost-text');
    assert.ok(ghost.trim().length > 0, `ghost text is shown: ${JSON.stringify(ghost)}`);

    await wb.page.keyboard.press('Tab');
    await wb.page.locator('.monaco-editor.focused .ghost-text-decoration').waitFor({ state: 'detached' });
    await wb.page.keyboard.press('Control+S');
    const saved = await waitForFile(path.join(workspace, 'src', 'stats.ts'), (text) => text.includes(`  ${typed}`));
    await wb.screenshot('01-accepted');

    const lines = source.split('\n');
    const before = [...lines.slice(0, typeAt.line - 1), `  ${typed}`].join('\n');
    const firstLine = ghost.split('\n')[0] ?? '';
    assert.ok(saved.startsWith(before + firstLine), `the document holds the typed line and the accepted ghost text:\n${saved}\n--- ghost:\n${ghost}`);
    assert.ok(saved.length >= source.length + typed.length + ghost.trim().length, 'the document grew by the ghost text');
    for (const extra of ghost.split('\n').slice(1)) assert.ok(saved.includes(extra), `later ghost line ${JSON.stringify(extra)} was inserted`);
    if (codeServer !== undefined) metrics['serverRssMbAfterCompletion'] = serverRssMb(codeServer);
    // Monitor-guided decoding uses the editor's own TypeScript (the VSIX carries none) and its
    // project for this file is built in the background once the file is open.
    assert.ok(codeServer !== undefined);
    await waitForLog(codeServer, /monitor: typescript [\d.]+ from \S*extensions\/node_modules\/typescript\/lib\/typescript\.js/, 0, 60_000);
    await waitForLog(codeServer, /monitor: typescript project \S+ ready in \d+ ms/, 0, 60_000);
    // The parse check's tree-sitter grammar ships in the VSIX and loads in the editor's server.
    await waitForLog(codeServer, /Syntax check: typescript parser loaded from \S*node_modules\/@vscode\/tree-sitter-wasm\/wasm\/tree-sitter-typescript\.wasm/, 0, 60_000);
  });

  void it('2. with specter.drafts.count 3, Alt+] cycles to another suggestion', async () => {
    assert.ok(codeServer !== undefined);
    // The server says when the setting reached it; typing before that would ask for one draft.
    const nLogChars = readSpecterLog(codeServer).length;
    writeWorkspaceSettings(multiDraft);
    await waitForLog(codeServer, /Multi-draft: 3 suggestions per completion/, nLogChars);
    await wb.page.keyboard.press('End');
    await wb.page.keyboard.press('Enter');
    await wb.page.keyboard.type('const half = ', { delay: 20 });
    const tTypedMs = Date.now();
    const first = await wb.waitForGhostText();
    metrics['typedToGhostTextMsMultiDraft'] = Date.now() - tTypedMs;
    // The toolbar (editor.inlineSuggest.showToolbar: always) asks for every suggestion and shows "1/3".
    const counter = await wb.waitForSuggestionCounter((c) => c.count >= 2);
    await wb.screenshot('02-suggestions');
    metrics['suggestionsOffered'] = counter.count;
    assert.equal(counter.index, 1);
    assert.ok(counter.count >= 2, `the server offers several suggestions: ${counter.count}`);

    await wb.page.keyboard.press('Alt+]');
    const second = await wb.waitForGhostText(10_000, first);
    const cycled = await wb.waitForSuggestionCounter((c) => c.index === 2, 10_000);
    await wb.screenshot('02-cycled');
    assert.notEqual(second, first);
    assert.equal(cycled.index, 2);
    assert.equal(cycled.count, counter.count);
  });

  void it('3. the Completions Panel shows three drafts and Accept inserts the chosen one (issue #9)', async () => {
    await wb.page.keyboard.press('Escape');
    await wb.page.locator('.monaco-editor.focused .ghost-text-decoration, .monaco-editor.focused .ghost-text').first().waitFor({ state: 'detached' });
    const file = path.join(workspace, 'src', 'stats.ts');
    await wb.runCommand('Specter: Open Completions Panel');
    await wb.page.locator('.tab[aria-label*="Specter Completions"]').waitFor({ state: 'visible' });
    const view = wb.webview();
    // Accept buttons are enabled once the final drafts arrived (streaming ones are disabled).
    const buttons = view.locator('section.draft button.accept:not([disabled])');
    await buttons.first().waitFor({ state: 'visible', timeout: 90_000 });
    const status = (await view.locator('#status').innerText()).trim();
    const drafts = await view.locator('section.draft pre.code').allInnerTexts();
    await wb.screenshot('03-panel');
    metrics['panelDrafts'] = drafts.length;
    assert.equal(status, '3 drafts', `the panel's status line: ${status}`);
    assert.equal(drafts.length, 3, JSON.stringify(drafts));
    assert.equal(await buttons.count(), 3);
    assert.equal(new Set(drafts).size, 3, `three different drafts: ${JSON.stringify(drafts)}`);

    // The second draft: not simply what the inline suggestion showed first.
    const chosen = drafts[1] ?? '';
    await buttons.nth(1).click();
    await view.locator('section.draft.accepted[data-index="1"]').waitFor({ state: 'attached' });
    await wb.page.locator('.monaco-editor.focused').waitFor({ state: 'visible' });
    await wb.page.keyboard.press('Control+S');
    const saved = await waitForFile(file, (text) => text.includes(`  const half = ${chosen}`));
    await wb.screenshot('03-panel-accepted');
    assert.ok(saved.includes(`  const half = ${chosen}`), `the document holds the accepted draft:\n${saved}\n--- draft:\n${chosen}`);

    // Close the panel: later steps find the statistics webview as the only one.
    const tab = wb.page.locator('.tab[aria-label*="Specter Completions"]');
    await tab.hover();
    await tab.locator('.tab-actions .action-label').click();
    await tab.waitFor({ state: 'detached' });
  });

  void it('4. Toggle Completions and Select Model from the command palette change the status bar', async () => {
    await wb.page.keyboard.press('Escape');
    await wb.runCommand('Specter: Toggle Completions');
    const off = await wb.waitForStatus(/disabled/);
    await wb.screenshot('04-toggled-off');
    assert.match(off, /Specter: disabled/);
    await wb.runCommand('Specter: Toggle Completions');
    await wb.waitForStatus(/Specter: specter-tiny/);
    await wb.screenshot('04-toggled-on');

    await wb.runCommand('Specter: Select Model…');
    await wb.pickQuickItem('tiny-copy', 'tiny-copy');
    const switched = await wb.waitForStatus(/Specter: tiny-copy/);
    await wb.screenshot('04-selected-model');
    assert.match(switched, /tiny-copy/);
  });

  void it('5. a broken specter.model shows the error in the status bar, no modal, and fixing it recovers', async () => {
    const nNotificationsBefore = (await wb.notificationTexts()).length;
    writeWorkspaceSettings({ ...multiDraft, 'specter.model': path.join(modelsRoot, 'broken') });
    const error = await wb.waitForStatus(/Specter: error/);
    await wb.screenshot('05-broken-model');
    assert.match(error, /error/);
    assert.equal(await wb.modalDialogCount(), 0, 'no modal dialog');
    const tooltip = await wb.page.locator('[id="specter-dev.specter.specter.status"] a').getAttribute('aria-label');
    assert.match(tooltip ?? '', /broken|onnx|model/i, `the status explains the error: ${tooltip}`);
    assert.ok((await wb.notificationTexts()).length <= nNotificationsBefore + 1, 'at most the progress notification, no error toasts');

    writeWorkspaceSettings(multiDraft);
    const recovered = await wb.waitForStatus(/Specter: tiny-copy/);
    await wb.screenshot('05-recovered');
    assert.match(recovered, /tiny-copy/);
    assert.equal(await wb.modalDialogCount(), 0);
  });

  void it('6. Show Statistics opens the statistics view with the latency chart', async () => {
    await wb.runCommand('Specter: Show Statistics');
    await wb.page.locator('.tab[aria-label*="Specter Statistics"]').waitFor({ state: 'visible' });
    const chart = wb.webview().locator('svg[role="img"]');
    await chart.waitFor({ state: 'visible' });
    assert.match((await chart.getAttribute('aria-label')) ?? '', /Latency of the last \d+ completions/);
    await wb.screenshot('06-statistics');
  });

  void it('7. Download Model fetches a repository into global storage and switches to it', async () => {
    await wb.runCommand('Specter: Download Model…');
    const input = wb.page.locator('.quick-input-widget input.input');
    await input.waitFor({ state: 'visible' });
    await input.fill('acme/tiny-coder');
    await wb.page.keyboard.press('Enter');
    await wb.pickQuickItem('model', 'model');
    const done = wb.page.locator('.notifications-toasts .notification-list-item', { hasText: 'downloaded acme/tiny-coder' });
    await done.waitFor({ state: 'visible', timeout: 120_000 });
    await wb.screenshot('07-downloaded');
    await done.locator('.monaco-button', { hasText: 'Use This Model' }).click();
    const status = await wb.waitForStatus(/Specter: acme--tiny-coder/);
    await wb.screenshot('07-using-download');
    assert.match(status, /acme--tiny-coder/);
    const storage = path.join(codeServer?.userDataDir ?? '', 'User', 'globalStorage', 'specter-dev.specter', 'models');
    assert.ok(fs.existsSync(path.join(storage, 'acme--tiny-coder', 'onnx', 'model.onnx')), 'the model is in global storage');
    assert.ok(!fs.existsSync(path.join(storage, 'acme--tiny-coder.download')), 'no staging folder left');
  });
});
