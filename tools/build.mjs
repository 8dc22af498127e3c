// Bundles the extension client, the language server and the CLI with esbuild.
// onnxruntime-node stays external (native binding); `vscode` is provided by the editor.
import { build } from 'esbuild';

const production = process.argv.includes('--production');
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'warning',
  // typescript (the monitor's language service) stays external: its lib .d.ts files are found
  // next to its own module, which a bundle would break. So does @vscode/tree-sitter-wasm (the
  // parse check): its Emscripten loader finds tree-sitter.wasm and the grammars next to itself.
  external: ['vscode', 'onnxruntime-node', 'typescript', '@vscode/tree-sitter-wasm'],
  // Bundle CommonJS flavours of dual packages (@huggingface/tokenizers ships both).
  conditions: ['node', 'require'],
  mainFields: ['main', 'module'],
};

await Promise.all([
  build({ ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js' }),
  build({ ...common, entryPoints: ['server/lsp/main.ts'], outfile: 'dist/server.js' }),
  build({ ...common, entryPoints: ['server/cli.ts'], outfile: 'dist/cli.js' }),
  // The monitor's TypeScript service runs in a worker thread; the server and the CLI start it from here.
  build({ ...common, entryPoints: ['server/monitor/ts-worker.ts'], outfile: 'dist/ts-worker.js' }),
]);
