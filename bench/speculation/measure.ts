// Runs completion tasks through the real completion service with speculation on and off,
// interleaved per task (the order alternates), and keeps what the summary needs.
import type { CompletionService } from '../../server/completion-service';
import type { ModelHost } from '../../server/model-host';
import type { SpecterSettings } from '../../server/protocol';
import type { OpenDocument } from './editing';

export interface BenchTask {
  id: string;
  workload: string;
  /** Editing task kind; undefined for held-out tasks. */
  kind?: string;
  language: string;
  path: string;
  prefix: string;
  suffix: string;
  openDocuments?: OpenDocument[];
}

export interface DrafterCounts {
  nDrafts: number;
  nDrafted: number;
  nAccepted: number;
}

/** One completion. `empty` when the service returned no text (no stats then). */
export interface SideRun {
  empty?: string;
  text: string;
  tokens: number[];
  decodeMs: number;
  totalMs: number;
  /** Decode forward passes: all passes minus the prefill's (the KV cache is emptied before each request). */
  nDecodeForward: number;
  nForward: number;
  byDrafter: Record<string, DrafterCounts>;
}

export interface TaskRuns {
  task: BenchTask;
  on: SideRun[];
  off: SideRun[];
}

const prefillChunk = 256;

export class SpeculationRunner {
  private nRequest = 0;

  constructor(
    private readonly service: CompletionService,
    private readonly host: ModelHost,
    private readonly base: SpecterSettings,
  ) {}

  /**
   * One completion. With speculation on, the drafters are fresh for every request (a settings key
   * the service does not know forces new ones): CopySpec's history is the prompt and the task's
   * open documents only, never an earlier completion, which with repetitions would be this very
   * task's answer.
   */
  async run(task: BenchTask, speculate: boolean): Promise<SideRun> {
    const sp = this.base.speculation;
    const speculation = speculate ? ({ ...sp, enabled: true, benchRequest: this.nRequest++ } as SpecterSettings['speculation']) : { ...sp, enabled: false };
    this.service.settings = { ...this.base, speculation };
    for (const d of task.openDocuments ?? []) this.service.documentOpened(d.uri, d.languageId, d.text);
    const model = await this.host.acquire();
    if (model === undefined) throw new Error(`model not ready: ${this.host.current.message}`);
    model.lm.truncate(0);
    const r = await this.service.complete({ uri: task.path, languageId: task.language, prefix: task.prefix, suffix: task.suffix });
    for (const d of task.openDocuments ?? []) this.service.documentClosed(d.uri);
    if (r.kind !== 'ok') return { empty: r.kind === 'empty' ? r.reason : 'cancelled', text: '', tokens: [], decodeMs: 0, totalMs: 0, nDecodeForward: 0, nForward: 0, byDrafter: {} };
    const s = r.stats;
    const byDrafter: Record<string, DrafterCounts> = {};
    if (speculate) {
      const stats = this.service.drafterStats();
      for (const [name, d] of Object.entries(stats)) byDrafter[name] = { nDrafts: d.nDrafts, nDrafted: d.nDrafted, nAccepted: d.nAccepted };
      const nDrafted = Object.values(byDrafter).reduce((n, d) => n + d.nDrafted, 0);
      if (nDrafted !== (s.speculation?.nDrafted ?? 0)) throw new Error(`drafter statistics span more than one request (${nDrafted} vs ${s.speculation?.nDrafted ?? 0} drafted): the service kept its drafters`);
    }
    const nPrefill = Math.ceil((s.promptTokens - s.reusedTokens) / prefillChunk);
    return {
      text: r.texts[0] ?? '',
      tokens: r.tokens,
      decodeMs: s.decodeMs,
      totalMs: s.totalMs,
      nDecodeForward: s.nForward - nPrefill,
      nForward: s.nForward,
      byDrafter,
    };
  }

  /** Both sides `reps` times; the side that goes first alternates with the task and repetition. */
  async runTask(task: BenchTask, index: number, reps: number): Promise<TaskRuns> {
    const out: TaskRuns = { task, on: [], off: [] };
    for (let rep = 0; rep < reps; rep++) {
      const onFirst = (index + rep) % 2 === 0;
      for (const speculate of onFirst ? [true, false] : [false, true]) (speculate ? out.on : out.off).push(await this.run(task, speculate));
    }
    return out;
  }
}

/** Same text and the same tokens on both sides in every repetition (speculation is lossless). */
export function identical(t: TaskRuns): boolean {
  const ref = t.off[0];
  if (ref === undefined) return false;
  return [...t.on, ...t.off].every((s) => s.empty === ref.empty && s.text === ref.text && s.tokens.length === ref.tokens.length && s.tokens.every((x, i) => x === ref.tokens[i]));
}
