// "Specter: Show Statistics": a webview with the server's summary (latency p50/p95, tokens/s,
// cache reuse, acceptance) and a bar chart of the latency of the recent completions. The page is
// static HTML + inline SVG with a strict CSP: no scripts.
import * as vscode from 'vscode';
import type { CompletionStats, StatsResult } from '../server/protocol';
import type { AcceptanceCounts } from './acceptance';

const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Bar chart of total latency per completion (prefill part darker), [width x height] px. */
export function latencyChart(history: readonly CompletionStats[], width = 640, height = 160): string {
  if (history.length === 0) return '<p class="muted">No completions yet: type in an editor, then refresh.</p>';
  const maxMs = Math.max(...history.map((h) => h.totalMs), 1);
  // Bars at most 16 px wide: a few completions should not look like a histogram of two buckets.
  const barWidth = Math.min(16, width / history.length);
  const bars = history
    .map((h, i) => {
      const x = (i * barWidth).toFixed(1);
      const w = Math.max(1, barWidth - 1).toFixed(1);
      const total = (h.totalMs / maxMs) * (height - 20);
      const prefill = (Math.min(h.prefillMs, h.totalMs) / maxMs) * (height - 20);
      return (
        `<rect class="total" x="${x}" y="${(height - total).toFixed(1)}" width="${w}" height="${total.toFixed(1)}"><title>${h.totalMs.toFixed(0)} ms, ${h.generatedTokens} tokens, ${h.tokensPerSecond.toFixed(1)} tokens/s</title></rect>` +
        `<rect class="prefill" x="${x}" y="${(height - prefill).toFixed(1)}" width="${w}" height="${prefill.toFixed(1)}"/>`
      );
    })
    .join('');
  return (
    `<svg role="img" aria-label="Latency of the last ${history.length} completions" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<text class="axis" x="2" y="12">${maxMs.toFixed(0)} ms</text>${bars}</svg>` +
    '<p class="legend"><span class="swatch total"></span> total latency <span class="swatch prefill"></span> prefill</p>'
  );
}

function percent(x: number): string {
  return `${(100 * x).toFixed(0)}%`;
}

function acceptance(stats: StatsResult): string {
  // No draft verified yet (speculation off, or nothing to copy so far).
  return stats.draftAcceptance > 0 || stats.last?.speculation !== undefined ? percent(stats.draftAcceptance) : '—';
}

export function statsHtml(
  stats: StatsResult | undefined,
  history: readonly CompletionStats[],
  accepted: AcceptanceCounts,
  webview: vscode.Webview,
  cssUri: vscode.Uri,
): string {
  const csp = `default-src 'none'; style-src ${webview.cspSource}; img-src ${webview.cspSource}`;
  const rows: [string, string][] =
    stats === undefined
      ? [['Server', 'not running — the figures below are from this window only']]
      : [
          ['Completions', String(stats.nCompletions)],
          ['Cancelled', String(stats.nCancelled)],
          ['Errors', String(stats.nErrors)],
          ['Latency p50 / p95', `${stats.latencyMs.p50.toFixed(0)} ms / ${stats.latencyMs.p95.toFixed(0)} ms`],
          ['Tokens/s (p50)', stats.tokensPerSecond.p50.toFixed(1)],
          ['Cache reuse', percent(stats.cacheReuseRate)],
          ['Draft acceptance', acceptance(stats)],
        ];
  const taken = accepted.nAccepted + accepted.nPartiallyAccepted;
  rows.push([
    'Suggestions accepted (this window)',
    accepted.nShown > 0
      ? `${percent(taken / accepted.nShown)} — ${accepted.nAccepted} in full, ${accepted.nPartiallyAccepted} in part, of ${accepted.nShown} shown`
      : 'none shown yet',
  ]);
  const table = rows.map(([k, v]) => `<tr><th>${escape(k)}</th><td>${escape(v)}</td></tr>`).join('');
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<link rel="stylesheet" href="${cssUri.toString()}"><title>Specter statistics</title></head>
<body><h1>Specter statistics</h1><table>${table}</table>
<h2>Recent completions</h2>${latencyChart(history)}</body></html>`;
}

export class StatsPanel {
  private panel: vscode.WebviewPanel | undefined;

  constructor(private readonly extension: vscode.ExtensionContext) {}

  show(stats: StatsResult | undefined, history: readonly CompletionStats[], accepted: AcceptanceCounts): void {
    if (this.panel === undefined) {
      this.panel = vscode.window.createWebviewPanel('specter.stats', 'Specter Statistics', vscode.ViewColumn.Beside, {
        enableScripts: false,
        localResourceRoots: [vscode.Uri.joinPath(this.extension.extensionUri, 'media')],
      });
      this.panel.onDidDispose(() => (this.panel = undefined));
    } else {
      this.panel.reveal(undefined, true);
    }
    const css = this.panel.webview.asWebviewUri(vscode.Uri.joinPath(this.extension.extensionUri, 'media', 'stats.css'));
    this.panel.webview.html = statsHtml(stats, history, accepted, this.panel.webview, css);
  }

  dispose(): void {
    this.panel?.dispose();
  }
}
