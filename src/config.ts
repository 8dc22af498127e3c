// Reads the `specter` settings section in the shape the server expects.
import * as vscode from 'vscode';

export function readSettings(): unknown {
  const section = vscode.workspace.getConfiguration('specter');
  return {
    enabled: section.get('enabled'),
    model: section.get('model'),
    modelVariant: section.get('modelVariant'),
    executionProvider: section.get('executionProvider'),
    threads: section.get('threads'),
    completion: section.get('completion'),
  };
}
