#!/usr/bin/python3
"""Collect the training corpus for specter-tiny.

Sources (only these): the Python 3.11 standard library shipped by Debian's python3.11 package and
the JS/TS sources of a fixed list of npm packages installed (with --ignore-scripts) into
tools/model/work/npm-corpus.  Large files are cut into ~200 KB chunks at line boundaries and at most
MAX_CHUNKS chunks per file are kept so typescript.js cannot dominate.  A deterministic ~5% slice of
documents (sha1(path) mod 20 == 0) is held out for evaluation and never trained on.

Writes work/corpus/{train,heldout}.jsonl ({"path","lang","text"} per line) and work/corpus/stats.json.
"""
import hashlib, json, os, sys, glob

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, 'work')
NPM = os.path.join(WORK, 'npm-corpus', 'node_modules')
PY_ROOT = '/usr/lib/python3.11'
NPM_PACKAGES = ['typescript', '@types/node', '@types/vscode', 'vscode-languageserver-protocol',
                'vscode-languageclient', 'vscode-languageserver', 'esbuild', 'onnxruntime-common']
JS_EXT = ('.js', '.mjs', '.cjs', '.ts', '.mts', '.cts')
CHUNK = 200_000
MAX_CHUNKS = 8
# typescript ships the same compiler three more times (_tsc.js, _tsserver.js, _typingsInstaller.js);
# keep only lib/typescript.js (+ .d.ts files).
SKIP_FILES = {'typescript/lib/_tsc.js', 'typescript/lib/_tsserver.js',
              'typescript/lib/_typingsInstaller.js', 'typescript/lib/tsc.js',
              'typescript/lib/tsserver.js', 'typescript/lib/tsserverlibrary.js',
              'typescript/lib/typingsInstaller.js', 'typescript/lib/watchGuard.js'}


def is_heldout(path):
    return int(hashlib.sha1(path.encode()).hexdigest(), 16) % 20 == 0


def lang_of(path):
    if path.endswith('.py'):
        return 'python'
    if path.endswith(('.ts', '.mts', '.cts')):
        return 'typescript'
    return 'javascript'


def chunks(text):
    if len(text) <= CHUNK:
        return [text]
    out, start = [], 0
    while start < len(text) and len(out) < MAX_CHUNKS:
        end = text.find('\n', start + CHUNK)
        end = len(text) if end < 0 else end + 1
        out.append(text[start:end])
        start = end
    return out


def python_files():
    for f in sorted(glob.glob(PY_ROOT + '/**/*.py', recursive=True)):
        rel = os.path.relpath(f, PY_ROOT)
        parts = rel.split(os.sep)
        if any(p in ('test', 'tests', 'idle_test', 'site-packages', 'dist-packages') for p in parts):
            continue
        yield 'python3.11/' + rel, f


def npm_files():
    for pkg in NPM_PACKAGES:
        root = os.path.join(NPM, pkg)
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d != 'node_modules')
            for fn in sorted(filenames):
                if not fn.endswith(JS_EXT) or fn.endswith('.min.js'):
                    continue
                f = os.path.join(dirpath, fn)
                rel = pkg + '/' + os.path.relpath(f, root)
                if rel in SKIP_FILES:
                    continue
                if pkg == 'esbuild' and rel not in ('esbuild/lib/main.js', 'esbuild/lib/main.d.ts'):
                    continue
                yield rel, f


def main():
    out = os.path.join(WORK, 'corpus')
    os.makedirs(out, exist_ok=True)
    stats = {'sources': {}, 'train_docs': 0, 'heldout_docs': 0, 'train_chars': 0, 'heldout_chars': 0}
    versions = {}
    for pkg in NPM_PACKAGES:
        pj = json.load(open(os.path.join(NPM, pkg, 'package.json')))
        versions[pkg] = {'version': pj['version'], 'license': pj.get('license')}
    versions['python3.11 stdlib (Debian)'] = {'version': os.popen("dpkg-query -W -f='${Version}' libpython3.11-stdlib").read(),
                                              'license': 'PSF-2.0'}
    with open(os.path.join(out, 'train.jsonl'), 'w') as tr, open(os.path.join(out, 'heldout.jsonl'), 'w') as ho:
        for src, gen in (('python', python_files()), ('npm', npm_files())):
            for rel, f in gen:
                try:
                    text = open(f, encoding='utf-8').read()
                except UnicodeDecodeError:
                    continue
                if not text.strip():
                    continue
                key = 'python3.11 stdlib (Debian)' if src == 'python' else next(p for p in NPM_PACKAGES if rel.startswith(p + '/'))
                s = stats['sources'].setdefault(key, {'files': 0, 'chars': 0, 'heldout_docs': 0})
                s['files'] += 1
                cs = chunks(text)
                for i, c in enumerate(cs):
                    path = rel if len(cs) == 1 else f'{rel}#{i}'
                    h = is_heldout(path)
                    rec = json.dumps({'path': rel, 'doc': path, 'lang': lang_of(rel), 'text': c})
                    (ho if h else tr).write(rec + '\n')
                    s['chars'] += len(c)
                    if h:
                        s['heldout_docs'] += 1
                        stats['heldout_docs'] += 1; stats['heldout_chars'] += len(c)
                    else:
                        stats['train_docs'] += 1; stats['train_chars'] += len(c)
    for k, v in versions.items():
        stats['sources'].setdefault(k, {}).update(v)
    json.dump(stats, open(os.path.join(out, 'stats.json'), 'w'), indent=1)
    print(json.dumps(stats, indent=1))


if __name__ == '__main__':
    main()
