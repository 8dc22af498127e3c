// Messages between the Completions Panel's extension side (panel.ts) and its webview
// (media/panel/panel.js). No vscode import: the shapes are plain data.
import type { PanelDraft } from '../../server/protocol';

/** Extension → webview. */
export type ToWebview =
  | { type: 'start'; requestId: string; languageId: string; file: string; line: number; k: number }
  | { type: 'drafts'; requestId: string; drafts: PanelDraft[]; final: boolean; note?: string }
  | { type: 'accepted'; requestId: string; index: number };

/** Webview → extension. */
export type FromWebview = { type: 'accept'; requestId: string; index: number } | { type: 'refresh' } | { type: 'ready' };

export function isFromWebview(m: unknown): m is FromWebview {
  if (typeof m !== 'object' || m === null) return false;
  const t = (m as { type?: unknown }).type;
  if (t === 'refresh' || t === 'ready') return true;
  return t === 'accept' && typeof (m as { index?: unknown }).index === 'number' && typeof (m as { requestId?: unknown }).requestId === 'string';
}
