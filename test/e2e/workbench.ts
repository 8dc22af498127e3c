// Drives the VS Code workbench in Chromium through playwright-core: command palette, quick open,
// status bar, ghost text. Every wait is on a DOM signal; nothing sleeps. Browser-side code is
// passed as strings because this project type-checks without the DOM library.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type FrameLocator, type Page } from 'playwright-core';

export const statusItem = '[id="specter-dev.specter.specter.status"]';

export function chromiumPath(): string {
  const fromEnv = process.env['SPECTER_E2E_CHROMIUM'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('Chromium not found: run scripts/e2e/setup.sh (installs the Debian chromium package)');
  }
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export class Workbench {
  constructor(
    readonly page: Page,
    private readonly artifacts: string,
  ) {
    fs.mkdirSync(artifacts, { recursive: true });
  }

  async screenshot(name: string): Promise<void> {
    await this.page.screenshot({ path: path.join(this.artifacts, `${name}.png`) });
  }

  async statusText(): Promise<string> {
    const text = await this.page.locator(statusItem).innerText({ timeout: 5_000 });
    return text.replace(/\s+/g, ' ').trim();
  }

  /** Waits until the Specter status bar item's text matches `pattern`; returns that text. */
  async waitForStatus(pattern: RegExp, timeoutMs = 120_000): Promise<string> {
    const handle = await this.page.waitForFunction(
      `(() => { const el = document.querySelector('${statusItem}'); const t = el ? el.innerText.replace(/\\s+/g, ' ').trim() : ''; return new RegExp(${JSON.stringify(pattern.source)}, ${JSON.stringify(pattern.flags)}).test(t) ? t : false; })()`,
      undefined,
      { timeout: timeoutMs, polling: 100 },
    );
    return (await handle.jsonValue()) as string;
  }

  /** Picks the row labelled exactly `label` in the open quick input. */
  private async pickRow(label: string, timeoutMs: number): Promise<void> {
    const row = this.page.locator('.quick-input-widget .quick-input-list .monaco-list-row', {
      has: this.page.locator('.label-name', { hasText: new RegExp(`^\\s*${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`) }),
    });
    await row.first().waitFor({ state: 'visible', timeout: timeoutMs });
    await row.first().click();
  }

  /** Runs a command from the command palette (F1) by its full title, e.g. "Specter: Show Log". */
  async runCommand(title: string): Promise<void> {
    await this.page.keyboard.press('F1');
    const input = this.page.locator('.quick-input-widget input.input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`>${title}`);
    await this.pickRow(title, 15_000);
  }

  /** Picks an item of a quick pick opened by a command, by typing a filter first. */
  async pickQuickItem(filter: string, label: string): Promise<void> {
    const input = this.page.locator('.quick-input-widget input.input');
    await input.waitFor({ state: 'visible' });
    await input.fill(filter);
    await this.pickRow(label, 15_000);
  }

  /** Opens a workspace file through Quick Open (Ctrl+P) and waits for its editor tab. */
  async openFile(name: string): Promise<void> {
    await this.page.keyboard.press('Control+P');
    const input = this.page.locator('.quick-input-widget input.input');
    await input.waitFor({ state: 'visible' });
    await input.fill(name);
    await this.pickRow(name, 30_000);
    await this.page.locator(`.tab.active[aria-label*="${name}"]`).waitFor({ state: 'visible' });
    await this.page.locator('.monaco-editor.focused').waitFor({ state: 'visible' });
  }

  /** Moves the cursor with Go to Line (Ctrl+G): 1-based line and column. */
  async goTo(line: number, column: number): Promise<void> {
    await this.page.keyboard.press('Control+G');
    const input = this.page.locator('.quick-input-widget input.input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`:${line}:${column}`);
    await this.page.keyboard.press('Enter');
    await input.waitFor({ state: 'hidden' });
    await this.page.locator('.monaco-editor.focused').waitFor({ state: 'visible' });
  }

  /**
   * The ghost text on screen: the inline part on the cursor line, then the lines shown below it.
   * Non-breaking spaces become spaces. Empty when there is none.
   */
  async ghostText(): Promise<string> {
    const text = await this.page.evaluate(`(() => {
      const editor = document.querySelector('.monaco-editor.focused') || document;
      const inline = Array.from(editor.querySelectorAll('.view-lines .ghost-text-decoration')).map((e) => e.textContent || '').join('');
      const block = Array.from(editor.querySelectorAll('.ghost-text .view-line')).map((e) => e.textContent || '');
      return [inline, ...block].join('\\n');
    })()`);
    return String(text).replace(/\u00a0/g, ' ');
  }

  /** Waits until ghost text is on screen (and differs from `other`, when given). */
  async waitForGhostText(timeoutMs = 90_000, other?: string): Promise<string> {
    const tStartMs = Date.now();
    await this.page.locator('.monaco-editor.focused .ghost-text-decoration, .monaco-editor.focused .ghost-text').first().waitFor({ state: 'attached', timeout: timeoutMs });
    if (other === undefined) return this.ghostText();
    await this.page.waitForFunction(
      `(() => { const e = document.querySelector('.monaco-editor.focused'); const t = Array.from(e.querySelectorAll('.view-lines .ghost-text-decoration, .ghost-text .view-line')).map((x) => x.textContent).join('\\n').replace(/\\u00a0/g, ' '); return t !== '' && t !== ${JSON.stringify(other)}; })()`,
      undefined,
      { timeout: Math.max(1_000, timeoutMs - (Date.now() - tStartMs)), polling: 100 },
    );
    return this.ghostText();
  }

  /** The "1/2" counter of the inline suggestion toolbar (editor.inlineSuggest.showToolbar: always). */
  async suggestionCounter(): Promise<{ index: number; count: number } | undefined> {
    const locator = this.page.locator('.inlineSuggestionsHints .availableSuggestionCount');
    if ((await locator.count()) === 0) return undefined;
    const match = /(\d+)\s*\/\s*(\d+)/.exec(await locator.first().innerText());
    return match?.[1] !== undefined && match[2] !== undefined ? { index: Number(match[1]), count: Number(match[2]) } : undefined;
  }

  /**
   * Waits until the suggestion counter ("2/3") satisfies `done`; returns it. On timeout, rejects
   * with the counter last seen.
   */
  async waitForSuggestionCounter(done: (c: { index: number; count: number }) => boolean, timeoutMs = 30_000): Promise<{ index: number; count: number }> {
    const tEndMs = Date.now() + timeoutMs;
    let last: { index: number; count: number } | undefined;
    for (;;) {
      // The toolbar re-renders as the explicit fetch answers: wait for each change of its text.
      const before = last === undefined ? '' : `${last.index}/${last.count}`;
      await this.page
        .waitForFunction(
          `(() => { const e = document.querySelector('.inlineSuggestionsHints .availableSuggestionCount'); const t = e ? e.textContent.replace(/\\s+/g, '') : ''; return /^\\d+\\/\\d+$/.test(t) && t !== ${JSON.stringify(before)}; })()`,
          undefined,
          { timeout: Math.max(1, tEndMs - Date.now()), polling: 100 },
        )
        .catch(() => undefined);
      last = (await this.suggestionCounter()) ?? last;
      if (last !== undefined && done(last)) return last;
      if (Date.now() >= tEndMs) throw new Error(`suggestion counter: ${last === undefined ? 'not shown' : `${last.index}/${last.count}`} after ${timeoutMs} ms`);
    }
  }

  /** The content of the visible webview (its outer iframe hosts the extension's page in an inner one). */
  webview(): FrameLocator {
    return this.page.locator('iframe.webview').filter({ visible: true }).contentFrame().frameLocator('iframe');
  }

  async modalDialogCount(): Promise<number> {
    return this.page.locator('.monaco-dialog-box').count();
  }

  async notificationTexts(): Promise<string[]> {
    return this.page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts();
  }
}
