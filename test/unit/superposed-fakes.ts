// A fake model with an inputs_embeds path for the superposed-decoding tests: the embedding table
// is the identity (hidden = vocab), so an input embedding is a weight per token; the fake runs the
// score function on the sequence extended with the heaviest token, and records every input.
import type { Logits } from '../../server/engine/model';
import type { EmbeddingLM } from '../../server/engine/superposed';
import type { EmbeddingTableLike } from '../../server/engine/superposed-score';
import { FakeLM, type FakeLMOptions } from './fakes';

export interface FakeEmbeddingLMOptions extends FakeLMOptions {
  /** embeddingTable() fails with this message (a model directory without model.safetensors). */
  embeddingTableError?: string;
}

export class FakeEmbeddingLM extends FakeLM implements EmbeddingLM {
  readonly hasEmbedsPath = true;
  /** Every forwardEmbeds input, [hidden] each. */
  readonly embedCalls: Float32Array[] = [];
  private readonly table: EmbeddingTableLike;
  private readonly tableError: string | undefined;

  constructor(options: FakeEmbeddingLMOptions) {
    super(options);
    this.tableError = options.embeddingTableError;
    const n = options.vocabSize;
    const data = new Float32Array(n * n);
    for (let i = 0; i < n; i++) data[i * n + i] = 1;
    this.table = { data, nRows: n, hidden: n };
  }

  async forwardEmbeds(embeds: Float32Array, nTokens: number): Promise<Logits> {
    const n = this.table.hidden;
    const ids: number[] = [];
    for (let t = 0; t < nTokens; t++) {
      const row = embeds.subarray(t * n, (t + 1) * n);
      this.embedCalls.push(Float32Array.from(row));
      let best = 0;
      for (let i = 1; i < n; i++) if ((row[i] as number) > (row[best] as number)) best = i;
      ids.push(best);
    }
    return this.forward(ids);
  }

  embeddingTable(): Promise<{ ok: true; value: EmbeddingTableLike } | { ok: false; error: { message: string } }> {
    if (this.tableError !== undefined) return Promise.resolve({ ok: false, error: { message: this.tableError } });
    return Promise.resolve({ ok: true, value: this.table });
  }
}
