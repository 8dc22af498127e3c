// "Specter: Select Model": a quick pick of model directories (the embedded default, sub-folders
// of `specter.modelDirectories` and of the download folder), plus "Browse…".
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { modelDirectories, modelSetting, section } from './config';

interface ModelPick extends vscode.QuickPickItem {
  /** Value for `specter.model`: '' for the embedded default, undefined for "Browse…". */
  model: string | undefined;
}

/** A model directory in the transformers.js layout has config.json and an onnx/ folder. */
export function isModelDirectory(dir: string): boolean {
  try {
    return fs.statSync(path.join(dir, 'config.json')).isFile() && fs.statSync(path.join(dir, 'onnx')).isDirectory();
  } catch {
    return false;
  }
}

/** Model directories directly inside `root` (and `root` itself when it is one). */
export function findModels(root: string): string[] {
  if (isModelDirectory(root)) return [root];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(root, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => path.join(root, e.name))
    .filter(isModelDirectory)
    .sort();
}

export function downloadRoot(extension: vscode.ExtensionContext): string {
  return path.join(extension.globalStorageUri.fsPath, 'models');
}

function variants(dir: string): string {
  try {
    const names = fs.readdirSync(path.join(dir, 'onnx')).filter((n) => n.endsWith('.onnx'));
    return names.map((n) => n.slice(0, -'.onnx'.length)).join(', ');
  } catch {
    return '';
  }
}

/**
 * Writes `specter.model` where it is currently defined (a workspace value would otherwise hide
 * a user-level change), else in the user settings.
 */
async function writeModel(model: string): Promise<void> {
  const config = vscode.workspace.getConfiguration(section);
  const inspected = config.inspect<string>('model');
  const target =
    inspected?.workspaceFolderValue !== undefined
      ? vscode.ConfigurationTarget.WorkspaceFolder
      : inspected?.workspaceValue !== undefined
        ? vscode.ConfigurationTarget.Workspace
        : vscode.ConfigurationTarget.Global;
  await config.update('model', model, target);
}

export async function selectModel(extension: vscode.ExtensionContext, directory?: string): Promise<string | undefined> {
  if (directory !== undefined) {
    if (directory !== '' && !isModelDirectory(directory)) throw new Error(`${directory} is not a model directory (config.json + onnx/)`);
    await writeModel(directory);
    return directory === '' ? 'specter-tiny (embedded)' : directory;
  }
  const current = modelSetting();
  const embedded = extension.asAbsolutePath(path.join('models', 'specter-tiny'));
  const picks: ModelPick[] = [
    { label: '$(package) Embedded default', description: 'specter-tiny', detail: embedded, model: '', picked: current === '' },
  ];
  const seen = new Set<string>([path.resolve(embedded)]);
  const roots = [...modelDirectories(), downloadRoot(extension)];
  for (const root of roots) {
    for (const dir of findModels(root)) {
      const resolved = path.resolve(dir);
      if (seen.has(resolved)) continue;
      seen.add(resolved);
      picks.push({ label: `$(folder) ${path.basename(dir)}`, description: variants(dir), detail: dir, model: dir, picked: resolved === path.resolve(current || '.') });
    }
  }
  picks.push({ label: '$(folder-opened) Browse…', description: 'choose a model directory', model: undefined });
  for (const pick of picks) if (pick.picked === true) pick.description = `${pick.description ?? ''} (current)`.trim();

  const pick = await vscode.window.showQuickPick(picks, {
    title: 'Specter: Select Model',
    placeHolder: 'Model directory (config.json + onnx/); add folders to search with specter.modelDirectories',
    matchOnDescription: true,
    matchOnDetail: true,
  });
  if (pick === undefined) return undefined;
  let model = pick.model;
  if (model === undefined) {
    const uris = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Use This Model' });
    const dir = uris?.[0]?.fsPath;
    if (dir === undefined) return undefined;
    if (!isModelDirectory(dir)) {
      void vscode.window.showWarningMessage(`${dir} is not a model directory: it needs config.json and an onnx/ folder.`);
      return undefined;
    }
    model = dir;
  }
  await writeModel(model);
  return model === '' ? 'specter-tiny (embedded)' : model;
}
