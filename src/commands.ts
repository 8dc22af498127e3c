// The command table: every command, and what it does when the server is not running
// (`whenStopped`): 'run' — works without the server (settings, log, downloads);
// 'start' — starts the server first; 'offer' — says so and offers Restart / Show Log.
import * as vscode from 'vscode';
import { statsRequest, type StatsResult } from '../server/protocol';
import { disabledLanguages, isEnabled, section } from './config';
import type { Ctx } from './ctx';
import { downloadModelCommand } from './download-command';
import { selectModel } from './model-picker';
import { CompletionsPanel } from './panel/panel';
import { StatsPanel } from './stats-view';

interface Command {
  id: string;
  /** Label in the status-bar quick pick; commands without one are not listed there. */
  label?: string;
  whenStopped: 'run' | 'start' | 'offer';
  run: (ctx: Ctx, ...args: unknown[]) => Promise<void>;
}

async function offerRestart(): Promise<void> {
  const choice = await vscode.window.showWarningMessage('The Specter server is not running.', 'Restart Server', 'Show Log');
  if (choice === 'Restart Server') await vscode.commands.executeCommand('specter.restartServer');
  if (choice === 'Show Log') await vscode.commands.executeCommand('specter.showLog');
}

async function toggleGlobal(): Promise<void> {
  await vscode.workspace.getConfiguration(section).update('enabled', !isEnabled(), vscode.ConfigurationTarget.Global);
}

async function toggleLanguage(): Promise<void> {
  const languageId = vscode.window.activeTextEditor?.document.languageId;
  if (languageId === undefined) {
    void vscode.window.showInformationMessage('Specter: open an editor to turn completions on or off for its language.');
    return;
  }
  const current = disabledLanguages();
  const next = current.includes(languageId) ? current.filter((l) => l !== languageId) : [...current, languageId];
  await vscode.workspace.getConfiguration(section).update('disabledLanguages', next, vscode.ConfigurationTarget.Global);
  vscode.window.setStatusBarMessage(`Specter: completions ${next.includes(languageId) ? 'off' : 'on'} for ${languageId}`, 3_000);
}

async function showStats(ctx: Ctx, panel: StatsPanel): Promise<void> {
  const client = ctx.languageClient;
  const stats = client !== undefined && ctx.running ? await client.sendRequest<StatsResult>(statsRequest) : undefined;
  panel.show(stats, ctx.history, ctx.acceptance.counts);
}

export function commandTable(ctx: Ctx): Command[] {
  const statsPanel = new StatsPanel(ctx.extension);
  ctx.push(statsPanel);
  const completionsPanel = new CompletionsPanel(ctx);
  ctx.push(completionsPanel);
  const table: Command[] = [
    { id: 'specter.toggle', label: '$(circle-slash) Toggle Completions', whenStopped: 'run', run: () => toggleGlobal() },
    { id: 'specter.toggleLanguage', label: '$(symbol-keyword) Toggle Completions for This Language', whenStopped: 'run', run: () => toggleLanguage() },
    {
      id: 'specter.trigger',
      whenStopped: 'offer',
      run: async () => {
        await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
      },
    },
    { id: 'specter.openCompletionsPanel', label: '$(list-flat) Open Completions Panel', whenStopped: 'offer', run: () => completionsPanel.open() },
    {
      id: 'specter.selectModel',
      label: '$(server) Select Model…',
      whenStopped: 'run',
      // An argument (a model directory, '' for the embedded one) skips the quick pick: for keybindings and tests.
      run: async (_ctx, dir) => {
        const chosen = await selectModel(ctx.extension, typeof dir === 'string' ? dir : undefined);
        if (chosen !== undefined) ctx.output.info(`Model set to ${chosen}`);
      },
    },
    { id: 'specter.downloadModel', label: '$(cloud-download) Download Model…', whenStopped: 'run', run: () => downloadModelCommand(ctx) },
    // Without a server the panel still shows this window's history.
    { id: 'specter.showStats', label: '$(graph) Show Statistics', whenStopped: 'run', run: () => showStats(ctx, statsPanel) },
    { id: 'specter.showLog', label: '$(output) Show Log', whenStopped: 'run', run: async () => ctx.output.show(true) },
    { id: 'specter.restartServer', label: '$(debug-restart) Restart Server', whenStopped: 'start', run: () => ctx.restart() },
    {
      id: 'specter.showActions',
      whenStopped: 'run',
      run: async () => {
        const picks = table
          .filter((c) => c.label !== undefined)
          .map((c) => ({ label: c.label ?? c.id, command: c.id }));
        const title = `Specter — ${ctx.statusBar.current.state}: ${ctx.statusBar.current.message}`;
        const pick = await vscode.window.showQuickPick(picks, { title });
        if (pick !== undefined) await vscode.commands.executeCommand(pick.command);
      },
    },
  ];
  return table;
}

export function registerCommands(ctx: Ctx): void {
  for (const command of commandTable(ctx)) {
    ctx.push(
      vscode.commands.registerCommand(command.id, async (...args: unknown[]) => {
        try {
          if (!ctx.running && command.whenStopped === 'offer') return await offerRestart();
          if (!ctx.running && command.whenStopped === 'start') return await ctx.start();
          await command.run(ctx, ...args);
        } catch (error) {
          ctx.output.error(`${command.id} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
          void vscode.window.showErrorMessage(`Specter: ${command.id} failed — see "Specter: Show Log".`);
        }
      }),
    );
  }
}
