// Member names from the editor: the server asks the client (`specter/monitorQuery`), which may
// answer from VS Code's own completion providers — every language with an installed extension,
// no process of ours. The request function is supplied by the LSP wiring.
import type { MonitorQueryParams, MonitorQueryResult } from '../protocol';
import type { MonitorQuery, MonitorSource } from './source';

export type MonitorQueryFn = (params: MonitorQueryParams, signal: AbortSignal) => Promise<MonitorQueryResult | undefined>;

export interface EditorSourceOptions {
  /** Language ids to ask the editor about; undefined = all. */
  languages?: readonly string[];
}

export class EditorSource implements MonitorSource {
  readonly name = 'editor';

  constructor(
    private readonly request: MonitorQueryFn,
    private readonly opts: EditorSourceOptions = {},
  ) {}

  supports(languageId: string): boolean {
    return this.opts.languages === undefined || this.opts.languages.includes(languageId);
  }

  async query(q: MonitorQuery): Promise<readonly string[] | undefined> {
    try {
      const result = await this.request({ uri: q.uri, position: q.position, text: q.text }, q.signal);
      return result?.identifiers;
    } catch {
      return undefined; // no client handler, cancelled: no constraint
    }
  }
}
