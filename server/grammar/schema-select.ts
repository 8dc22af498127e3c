// Which JSON Schema applies to a JSON document, in VS Code's order of precedence: the document's
// own `$schema`, then the user's `json.schemas` associations, then Specter's built-in schemas for
// package.json and tsconfig.json. Remote schemas are never fetched: well-known URLs map to the
// built-in schemas, other http(s) URLs are skipped with a reason.
import { readFile } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import packageSchema from './schemas/package.schema.json';
import tsconfigSchema from './schemas/tsconfig.schema.json';

/** One entry of VS Code's `json.schemas` setting. */
export interface JsonSchemaAssociation {
  fileMatch?: string[];
  url?: string;
  schema?: unknown;
}

export interface SchemaChoice {
  /** Cache key: same key, same compiled grammar. */
  key: string;
  /** Where it came from, for the log. */
  source: string;
  load: () => Promise<string>;
}

export type SchemaSelection = { choice: SchemaChoice } | { choice: undefined; reason: string };

const builtins: Record<string, { schema: unknown; urls: readonly string[] }> = {
  'package.json': {
    schema: packageSchema,
    urls: ['https://json.schemastore.org/package', 'https://json.schemastore.org/package.json', 'http://json.schemastore.org/package'],
  },
  'tsconfig.json': {
    schema: tsconfigSchema,
    urls: ['https://json.schemastore.org/tsconfig', 'https://json.schemastore.org/tsconfig.json', 'http://json.schemastore.org/tsconfig', 'https://json.schemastore.org/jsconfig'],
  },
};

function builtinChoice(name: string, why: string): SchemaChoice {
  const text = JSON.stringify((builtins[name] as { schema: unknown }).schema);
  return { key: `builtin:${name}`, source: `built-in ${name} schema (${why})`, load: () => Promise.resolve(text) };
}

function builtinForUrl(url: string): string | undefined {
  const u = url.replace(/#.*$/, '').replace(/\/$/, '');
  return Object.keys(builtins).find((name) => builtins[name]?.urls.includes(u));
}

function fileChoice(ref: string, baseDir: string | undefined, why: string): SchemaSelection {
  const known = builtinForUrl(ref);
  if (known !== undefined) return { choice: builtinChoice(known, why) };
  if (/^https?:/i.test(ref)) return { choice: undefined, reason: `${why}: ${ref} is remote; Specter does not fetch schemas` };
  let path: string;
  if (/^file:/i.test(ref)) path = fileURLToPath(ref);
  else if (isAbsolute(ref)) path = ref;
  else if (baseDir !== undefined) path = resolve(baseDir, ref);
  else return { choice: undefined, reason: `${why}: relative path ${ref} without a base folder` };
  return {
    choice: {
      key: `file:${path}`,
      source: `${path} (${why})`,
      load: async () => {
        const text = await readFile(path, 'utf8');
        JSON.parse(text); // a clear error now rather than an obscure one from the compiler
        return text;
      },
    },
  };
}

/** VS Code fileMatch: `*` any run of characters, a leading `/` anchors at the workspace root, `!` excludes. */
function fileMatches(patterns: readonly string[], documentPath: string): boolean {
  const path = documentPath.replaceAll('\\', '/');
  let matched = false;
  for (const raw of patterns) {
    const exclude = raw.startsWith('!');
    const pattern = exclude ? raw.slice(1) : raw;
    const body = pattern.replace(/^\.?\//, '').split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^]*');
    const re = new RegExp(`(^|/)${body}$`);
    if (re.test(path)) {
      if (exclude) return false;
      matched = true;
    }
  }
  return matched;
}

export interface SelectOptions {
  /** File system path of the document (for built-in names and fileMatch). */
  documentPath: string;
  /** Whole document text (the `$schema` property may come after the cursor). */
  text: string;
  associations: readonly JsonSchemaAssociation[];
  /** Base for relative `json.schemas` URLs (the workspace folder). */
  workspaceFolder?: string;
}

export function selectJsonSchema(o: SelectOptions): SchemaSelection {
  const own = /"\$schema"\s*:\s*"([^"]+)"/.exec(o.text);
  if (own?.[1] !== undefined) {
    const dir = join(o.documentPath, '..');
    return fileChoice(own[1], dir, '$schema in the document');
  }
  for (const a of o.associations) {
    if (!Array.isArray(a.fileMatch) || !fileMatches(a.fileMatch, o.documentPath)) continue;
    if (a.schema !== undefined && typeof a.schema === 'object' && a.schema !== null) {
      const text = JSON.stringify(a.schema);
      return { choice: { key: `inline:${text}`, source: 'inline schema in json.schemas', load: () => Promise.resolve(text) } };
    }
    if (typeof a.url === 'string') return fileChoice(a.url, o.workspaceFolder, 'json.schemas');
  }
  const name = basename(o.documentPath).toLowerCase();
  if (name === 'package.json') return { choice: builtinChoice('package.json', 'file name') };
  if (/^(tsconfig|jsconfig)(\..*)?\.json$/.test(name)) return { choice: builtinChoice('tsconfig.json', 'file name') };
  return { choice: undefined, reason: 'no $schema, no json.schemas association, not package.json/tsconfig.json' };
}
