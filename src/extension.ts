// Extension entry: build the context, register the commands, start the server without waiting
// for it (activation stays short; the status bar shows the server's progress). Both times go to
// the log: "Activated in" (activate() itself) and "Server initialized in" (process up, LSP
// initialize answered; the model loads after that).
import type * as vscode from 'vscode';
import type { StatusParams } from '../server/protocol';
import { registerCommands } from './commands';
import { Ctx } from './ctx';

let ctx: Ctx | undefined;

/** What `vscode.extensions.getExtension('specter-dev.specter').exports` gives (used by test/vscode). */
export interface SpecterApi {
  /** The last status from the server and the status bar text shown for it. */
  status(): { params: StatusParams; text: string };
  onStatus: vscode.Event<StatusParams>;
}

export function activate(extension: vscode.ExtensionContext): SpecterApi {
  const tStartMs = performance.now();
  ctx = new Ctx(extension);
  extension.subscriptions.push(ctx);
  registerCommands(ctx);
  const owner = ctx;
  void owner.start().then(() => owner.output.info(`Server initialized in ${(performance.now() - tStartMs).toFixed(0)} ms after activation began`));
  owner.output.info(`Activated in ${(performance.now() - tStartMs).toFixed(0)} ms`);
  return { status: () => ({ params: owner.statusBar.current, text: owner.statusBar.text }), onStatus: owner.onStatus };
}

export async function deactivate(): Promise<void> {
  await ctx?.stop();
  ctx = undefined;
}
