// The Completions Panel's pieces that run without VS Code: the webview message guard and the
// offline highlighter (which must escape everything the model writes).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as vm from 'node:vm';
import { isFromWebview } from '../../src/panel/messages';

const script = fs.readFileSync(path.join(__dirname, '..', '..', 'media', 'panel', 'highlight.js'), 'utf8');
const sandbox: { specterHighlight?: (text: string, languageId: string) => string } = {};
vm.runInNewContext(script, Object.assign(sandbox, { globalThis: sandbox }));
const highlight = sandbox.specterHighlight as (text: string, languageId: string) => string;
const plain = (html: string): string => html.replace(/<[^>]+>/g, '').replace(/&#(\d+);/g, (_, c: string) => String.fromCharCode(Number(c)));

describe('completions panel', () => {
  const cases: [string, string][] = [
    ['typescript', 'const x = "a<b>" + 42; // <script>alert(1)</script>'],
    ['python', "def f(a):\n    return 'x' # done"],
    ['javascript', '/* open comment <img src=x onerror=alert(1)>'],
    ['go', 'func Main() { fmt.Println(`raw & <string>`) }'],
    ['plaintext', '&amp; <>"\''],
  ];
  for (const [languageId, text] of cases) {
    it(`highlights ${languageId} without losing or injecting characters`, () => {
      const html = highlight(text, languageId);
      assert.equal(plain(html), text);
      // The only tags are our spans.
      assert.deepEqual([...new Set(html.match(/<\/?[a-z]+/g) ?? [])].filter((t) => t !== '<span' && t !== '</span'), []);
    });
  }

  it('marks keywords, strings, numbers and comments', () => {
    const html = highlight('return "s" + 1 // c', 'typescript');
    for (const cls of ['tok-keyword', 'tok-string', 'tok-number', 'tok-comment']) assert.ok(html.includes(cls), cls);
    assert.ok(highlight('x = 1 # c', 'python').includes('tok-comment'));
  });

  it('accepts only well-formed webview messages', () => {
    assert.ok(isFromWebview({ type: 'accept', requestId: 'panel-1', index: 0 }));
    assert.ok(isFromWebview({ type: 'refresh' }));
    assert.ok(!isFromWebview({ type: 'accept', index: '0' }));
    assert.ok(!isFromWebview({ type: 'insert', text: 'rm -rf /' }));
    assert.ok(!isFromWebview(null));
  });
});
