// "Specter: Download Model": asks for a Hugging Face repository id and a variant, downloads into
// the extension's global storage with a cancellable progress notification (src/download/hub.ts
// does the work), then offers to switch to the new model.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { defaultEndpoint, downloadModel, DownloadError, folderName } from './download/hub';
import { checkRepoId } from './download/safety';
import { downloadRoot } from './model-picker';
import { section } from './config';
import type { Ctx } from './ctx';

/**
 * Tests only: SPECTER_TEST_HUB_ENDPOINT points the downloader at a fixture hub, and plain HTTP is
 * then accepted for loopback addresses. Users always get HTTPS to huggingface.co or the
 * `specter.advanced.hubEndpoint` they configured (HTTPS required).
 */
function endpoint(): { endpoint: string; allowLoopbackHttp: boolean } {
  const test = process.env['SPECTER_TEST_HUB_ENDPOINT'];
  if (test !== undefined && test !== '') return { endpoint: test, allowLoopbackHttp: true };
  const configured = vscode.workspace.getConfiguration(section).get<string>('advanced.hubEndpoint', '').trim();
  return { endpoint: configured || defaultEndpoint, allowLoopbackHttp: false };
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export async function downloadModelCommand(ctx: Ctx): Promise<void> {
  const repo = await vscode.window.showInputBox({
    title: 'Specter: Download Model (1/2)',
    prompt: 'Hugging Face repository id of a model in the transformers.js ONNX layout',
    placeHolder: 'onnx-community/Qwen2.5-Coder-0.5B-Instruct',
    ignoreFocusOut: true,
    validateInput: (value) => {
      try {
        checkRepoId(value);
        return undefined;
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    },
  });
  if (repo === undefined) return;
  const variant = await vscode.window.showQuickPick(
    [
      { label: 'model_quantized', description: 'int8 weights: smallest, fast on CPU' },
      { label: 'model_fp16', description: 'half precision: for GPUs' },
      { label: 'model', description: 'full precision' },
      { label: 'model_q4', description: '4-bit weights' },
    ],
    { title: 'Specter: Download Model (2/2)', placeHolder: 'Which ONNX file under onnx/' },
  );
  if (variant === undefined) return;
  const target = path.join(downloadRoot(ctx.extension), folderName(repo));
  const hub = endpoint();
  ctx.output.info(`Downloading ${repo} (${variant.label}) from ${hub.endpoint} into ${target}`);

  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Specter: downloading ${repo}`, cancellable: true },
      async (progress, token) => {
        const controller = new AbortController();
        token.onCancellationRequested(() => controller.abort());
        let lastPercent = 0;
        return downloadModel({
          repo,
          target,
          variant: variant.label,
          ...hub,
          signal: controller.signal,
          onProgress: (p) => {
            const percent = p.bytesTotal !== undefined && p.bytesTotal > 0 ? (100 * p.bytesDone) / p.bytesTotal : 0;
            const total = p.bytesTotal !== undefined ? ` of ${mb(p.bytesTotal)}` : '';
            progress.report({ message: `${p.file} (${p.nFile}/${p.nFiles}), ${mb(p.bytesDone)}${total}`, increment: percent - lastPercent });
            lastPercent = percent;
          },
        });
      },
    );
    for (const r of result.rejected) ctx.output.warn(`Skipped ${JSON.stringify(r.path)}: ${r.reason}`);
    ctx.output.info(`Downloaded ${result.files.length} files (${mb(result.bytesDownloaded)}, ${result.nResumed} resumed) into ${result.target}`);
    const choice = await vscode.window.showInformationMessage(`Specter: downloaded ${repo}.`, 'Use This Model');
    if (choice === 'Use This Model') {
      await vscode.workspace.getConfiguration(section).update('model', result.target, vscode.ConfigurationTarget.Global);
      await vscode.workspace.getConfiguration(section).update('modelVariant', variant.label, vscode.ConfigurationTarget.Global);
    }
  } catch (error) {
    if (error instanceof DownloadError && error.code === 'cancelled') {
      ctx.output.info(`Download of ${repo} cancelled; run it again to resume`);
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    ctx.output.error(`Download of ${repo} failed: ${message}`);
    void vscode.window.showErrorMessage(`Specter: download failed — ${message}`);
  }
}
