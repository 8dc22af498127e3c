// Builds a platform VSIX:
//   node scripts/package.mjs [--target linux-x64] [--no-build] [--out FILE] [--with-pyright]
// Targets: win32-x64, win32-arm64, linux-x64, linux-arm64, darwin-arm64 (the platforms whose
// binaries onnxruntime-node ships); the packaging machine's own node_modules serves them all.
// .vscodeignore is the allowlist; this script writes a copy of it that keeps only the
// onnxruntime-node binaries of the target platform (vsce cannot parametrise the ignore file).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// The extension root is the working directory (npm runs scripts there).
const root = process.cwd();
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const target = option('--target', `${process.platform}-${process.arch}`);
const [platform, arch] = target.split('-');
const known = ['win32-x64', 'win32-arm64', 'linux-x64', 'linux-arm64', 'darwin-arm64'];
if (!known.includes(target)) {
  console.error(`Unsupported target ${target}: onnxruntime-node ships binaries for ${known.join(', ')}.`);
  process.exit(2);
}
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const out = path.resolve(option('--out', path.join(root, `specter-${target}-${manifest.version}.vsix`)));

if (!args.includes('--no-build')) {
  execFileSync(process.execPath, [path.join(root, 'tools', 'build.mjs'), '--production'], { cwd: root, stdio: 'inherit' });
}

let ignore = fs
  .readFileSync(path.join(root, '.vscodeignore'), 'utf8')
  .replace('!node_modules/onnxruntime-node/bin/napi-v6/*/*/**', `!node_modules/onnxruntime-node/bin/napi-v6/${platform}/${arch}/**`);
// --with-pyright ships pyright (about +6 MB) so that monitor-guided decoding works for Python
// without a separately installed language server.
if (args.includes('--with-pyright')) {
  ignore += [
    '',
    '!node_modules/pyright/package.json',
    '!node_modules/pyright/LICENSE.txt',
    '!node_modules/pyright/index.js',
    '!node_modules/pyright/langserver.index.js',
    '!node_modules/pyright/dist/*.js',
    '!node_modules/pyright/dist/typeshed-fallback/**',
    '',
  ].join('\n');
}
const ignoreFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'specter-vsce-')), '.vscodeignore');
fs.writeFileSync(ignoreFile, ignore);

const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');

execFileSync(
  process.execPath,
  [vsce, 'package', '--target', target, '--out', out, '--ignoreFile', ignoreFile, '--allow-missing-repository', '--skip-license', '--no-rewrite-relative-links'],
  { cwd: root, stdio: 'inherit' },
);
const nBytes = fs.statSync(out).size;
console.log(`VSIX ${path.relative(root, out)}: ${(nBytes / 1024 / 1024).toFixed(1)} MB (${nBytes} bytes), target ${target}`);
