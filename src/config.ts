// The one typed facade over the `specter.*` settings on the client side: what the server gets,
// which changes reload the model, and the client-only keys (languages, debounce, model folders).
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { modelReloadKeys } from '../server/protocol';

export const section = 'specter';

/**
 * The whole `specter` section as plain JSON: the server parses it (server/settings.ts) and
 * ignores keys it does not know, so new settings reach it without touching the client.
 */
export function readSettings(): Record<string, unknown> {
  const config = vscode.workspace.getConfiguration(section);
  return JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
}

export function isEnabled(): boolean {
  return vscode.workspace.getConfiguration(section).get<boolean>('enabled', true);
}

/** Per-language enablement: `specter.disabledLanguages` lists VS Code language ids. */
export function disabledLanguages(): string[] {
  const value = vscode.workspace.getConfiguration(section).get<unknown>('disabledLanguages', []);
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

export function isLanguageEnabled(languageId: string): boolean {
  return !disabledLanguages().includes(languageId);
}

/** `specter.debounceMs`: a fixed delay in ms, or undefined for the adaptive default. */
export function debounceMs(): number | undefined {
  const value = vscode.workspace.getConfiguration(section).get<unknown>('debounceMs', null);
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

/** Folders whose sub-folders "Select Model" offers, with `~` expanded. */
export function modelDirectories(): string[] {
  const value = vscode.workspace.getConfiguration(section).get<unknown>('modelDirectories', []);
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v.trim() !== '').map((v) => expandHome(v.trim())) : [];
}

export function modelSetting(): string {
  return vscode.workspace.getConfiguration(section).get<string>('model', '').trim();
}

/** Changes that make the server load the model again (it shows a progress notification). */
export function affectsModel(event: vscode.ConfigurationChangeEvent): boolean {
  return [...modelReloadKeys, 'enabled'].some((key) => event.affectsConfiguration(`${section}.${key}`));
}
