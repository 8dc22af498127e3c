// The command table: every command, and what it does when the server is not running.
import * as vscode from 'vscode';
import { statsRequest, type StatsResult } from '../server/protocol';
import type { Ctx } from './ctx';

interface Command {
  id: string;
  run: (ctx: Ctx) => Promise<void>;
}

async function notRunning(): Promise<void> {
  const choice = await vscode.window.showWarningMessage('The Specter server is not running.', 'Restart Server', 'Show Log');
  if (choice === 'Restart Server') await vscode.commands.executeCommand('specter.restartServer');
  if (choice === 'Show Log') await vscode.commands.executeCommand('specter.showLog');
}

async function toggleGlobal(): Promise<void> {
  const config = vscode.workspace.getConfiguration('specter');
  await config.update('enabled', !config.get<boolean>('enabled', true), vscode.ConfigurationTarget.Global);
}

export const commands: Command[] = [
  { id: 'specter.toggle', run: () => toggleGlobal() },
  { id: 'specter.trigger', run: async () => { await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger'); } },
  { id: 'specter.showLog', run: async (ctx) => ctx.output.show(true) },
  { id: 'specter.restartServer', run: async (ctx) => { await ctx.restart(); } },
  {
    id: 'specter.showStats',
    run: async (ctx) => {
      const client = ctx.languageClient;
      if (client === undefined || !ctx.running) return notRunning();
      const stats = await client.sendRequest<StatsResult>(statsRequest);
      const doc = await vscode.workspace.openTextDocument({
        language: 'markdown',
        content: [
          '# Specter statistics',
          '',
          `| completions | cancelled | errors | latency p50 | latency p95 | tokens/s p50 | cache reuse |`,
          `| --- | --- | --- | --- | --- | --- | --- |`,
          `| ${stats.nCompletions} | ${stats.nCancelled} | ${stats.nErrors} | ${stats.latencyMs.p50.toFixed(0)} ms | ${stats.latencyMs.p95.toFixed(0)} ms | ${stats.tokensPerSecond.p50.toFixed(1)} | ${(100 * stats.cacheReuseRate).toFixed(0)}% |`,
        ].join('\n'),
      });
      await vscode.window.showTextDocument(doc, { preview: true });
    },
  },
  {
    id: 'specter.showActions',
    run: async () => {
      const picks = [
        { label: 'Toggle Completions', command: 'specter.toggle' },
        { label: 'Show Statistics', command: 'specter.showStats' },
        { label: 'Show Log', command: 'specter.showLog' },
        { label: 'Restart Server', command: 'specter.restartServer' },
      ];
      const pick = await vscode.window.showQuickPick(picks, { title: 'Specter' });
      if (pick !== undefined) await vscode.commands.executeCommand(pick.command);
    },
  },
];

export function registerCommands(ctx: Ctx): void {
  for (const command of commands) {
    ctx.push(
      vscode.commands.registerCommand(command.id, async () => {
        try {
          await command.run(ctx);
        } catch (error) {
          ctx.output.error(`${command.id} failed: ${String(error)}`);
          void vscode.window.showErrorMessage(`Specter: ${command.id} failed — see "Specter: Show Log".`);
        }
      }),
    );
  }
}
