// Replays a typing trace through an editor client in real time. Per keystroke: the new text goes
// to the server (didChange), a pending request is cancelled, and after the debounce a completion
// is requested; its latency counts from the keystroke (debounce included) if it arrives before the
// next keystroke. Pauses longer than `tCompressMs` are cut short once nothing is pending and the
// server reports itself idle (no request, no prefetch): the server does nothing in the rest of the
// pause, so skipping it changes no measurement (CPU is measured by the server process itself).
import { adaptiveDebounce, ShownSuggestion, TypingRhythm, type DebounceDecision } from '../../server/typing/debounce-policy';
import type { TypingStatsResult } from '../../server/protocol';
import type { EditorClient } from './client';
import type { Trace } from './trace';

export type DebounceStrategy = { kind: 'adaptive' } | { kind: 'fixed'; ms: number };

export interface KeyOutcome {
  /** Gap before the next keystroke as the trace has it (Infinity for the last), ms. */
  gapAfterMs: number;
  /** Debounce delay applied (ms); undefined when no request was scheduled. */
  delayMs?: number;
  requested: boolean;
  /** Keystroke-to-answer latency when the answer arrived before the next keystroke. */
  latencyMs?: number;
  text?: string;
}

export interface ReplayOutcome {
  keys: KeyOutcome[];
  nRequests: number;
  nCancelled: number;
  /** Answer to an explicit request at the final document state, after the server went idle. */
  finalText: string;
  finalMatchesFile: boolean;
  tReplayMs: number;
  tCompressedMs: number;
  /** Server counters after the warm-up and after the last keystroke's answer. */
  before: TypingStatsResult;
  after: TypingStatsResult;
  rssBytes: number[];
}

const tCompressMs = 400;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function position(text: string, offset: number): { line: number; character: number; lineBefore: string; lineAfter: string } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  let lineEnd = text.indexOf('\n', offset);
  if (lineEnd < 0) lineEnd = text.length;
  let line = 0;
  for (let i = before.indexOf('\n'); i >= 0; i = before.indexOf('\n', i + 1)) line++;
  return { line, character: offset - lineStart, lineBefore: text.slice(lineStart, offset), lineAfter: text.slice(offset, lineEnd) };
}

async function waitIdle(client: EditorClient, pendingWork: () => boolean, tMaxMs: number): Promise<void> {
  const tEnd = performance.now() + tMaxMs;
  while (performance.now() < tEnd) {
    if (!pendingWork() && !(await client.typingStats()).busy) return;
    await sleep(Math.min(25, Math.max(1, tEnd - performance.now())));
  }
}

export async function replayTrace(client: EditorClient, trace: Trace, strategy: DebounceStrategy, fileText: string): Promise<ReplayOutcome> {
  let text = trace.initial;
  let cursor = trace.offset;
  await client.open(trace.uri, trace.languageId, text);
  // Warm-up: one completion at the start, so model loading is not part of the replay.
  const at0 = position(text, cursor);
  await client.request(trace.uri, at0.line, at0.character, true).done;
  await waitIdle(client, () => false, 60_000);
  const before = await client.typingStats();
  const rssBytes = [before.rssBytes];
  const sampler = setInterval(() => void client.typingStats().then((st) => rssBytes.push(st.rssBytes)), 2_000);

  const rhythm = new TypingRhythm();
  // What the editor shows: keystrokes that type it through are asked at once (as src/debounce.ts does).
  const onScreen = new ShownSuggestion();
  const keys: KeyOutcome[] = [];
  let nRequests = 0;
  let nCancelled = 0;
  let timer: NodeJS.Timeout | undefined;
  let inflight: { k: number; cancel(): void; answered: boolean } | undefined;
  const tStart = performance.now();
  let tCompressed = 0;
  let tKey = 0;

  for (const [k, event] of trace.events.entries()) {
    if (event.gapMs > tCompressMs) {
      const t0 = performance.now();
      await waitIdle(client, () => timer !== undefined || inflight !== undefined, event.gapMs);
      const waited = performance.now() - t0;
      tCompressed += Math.max(0, event.gapMs - waited);
    } else {
      await sleep(Math.max(0, event.gapMs - (performance.now() - tKey)));
    }
    if (event.kind === 'insert') {
      text = text.slice(0, cursor) + event.text + text.slice(cursor);
      cursor += event.text.length;
    } else {
      text = text.slice(0, cursor - 1) + text.slice(cursor);
      cursor -= 1;
    }
    tKey = performance.now();
    rhythm.key(tKey);
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (inflight !== undefined && !inflight.answered) {
      inflight.cancel();
      nCancelled++;
    }
    inflight = undefined;
    await client.change(trace.uri, text);
    const at = position(text, cursor);
    const outcome: KeyOutcome = { requested: false, gapAfterMs: trace.events[k + 1]?.gapMs ?? Number.POSITIVE_INFINITY };
    keys.push(outcome);
    const decision: DebounceDecision =
      strategy.kind === 'fixed'
        ? { kind: 'wait', ms: strategy.ms }
        : adaptiveDebounce({
            lineBefore: at.lineBefore, lineAfter: at.lineAfter, typingIntervalMs: rhythm.intervalMs, latencyMs: rhythm.latencyMs,
            typesThrough: onScreen.typesThrough(trace.uri, at.line, at.character, at.lineBefore + at.lineAfter),
          });
    if (decision.kind === 'manual') continue;
    outcome.delayMs = decision.ms;
    const tThisKey = tKey;
    const send = (): void => {
      timer = undefined;
      nRequests++;
      outcome.requested = true;
      const r = client.request(trace.uri, at.line, at.character, false);
      const mine = { k, cancel: r.cancel, answered: false };
      inflight = mine;
      void r.done.then((items) => {
        if (items === 'cancelled' || inflight !== mine) return;
        mine.answered = true;
        inflight = undefined;
        outcome.latencyMs = performance.now() - tThisKey;
        const first = items[0]?.insertText;
        outcome.text = typeof first === 'string' ? first : '';
        onScreen.show(trace.uri, at.line, at.character, outcome.text);
        const model = client.takeModelLatencyMs();
        if (model !== undefined) rhythm.observeLatency(model);
      });
    };
    if (decision.ms <= 0) send();
    else timer = setTimeout(send, decision.ms);
  }
  // Let the last request finish, then ask explicitly at the final state.
  await waitIdle(client, () => timer !== undefined || inflight !== undefined, 60_000);
  const tReplayMs = performance.now() - tStart;
  clearInterval(sampler);
  const after = await client.typingStats();
  rssBytes.push(after.rssBytes);
  const at = position(text, cursor);
  const final = await client.request(trace.uri, at.line, at.character, true).done;
  const first = final === 'cancelled' ? undefined : final[0]?.insertText;
  await client.closeDocument(trace.uri);
  return {
    keys,
    nRequests,
    nCancelled,
    finalText: typeof first === 'string' ? first : '',
    finalMatchesFile: text === fileText,
    tReplayMs,
    tCompressedMs: tCompressed,
    before,
    after,
    rssBytes,
  };
}
