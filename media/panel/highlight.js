// A small offline highlighter for the Completions Panel: keywords, strings, comments, numbers,
// types and calls, as <span class="tok-…"> around HTML-escaped text. Defines
// globalThis.specterHighlight(text, languageId); loaded before panel.js (and by the unit test).
// @ts-check
(function () {
  const keywords = new Set(
    (
      'abstract and as assert async await break case catch class const continue def default del delete do elif else enum export extends ' +
      'false final finally fn for from func function go if impl import in instanceof interface is lambda let match mod module mut new nil ' +
      'None not null or package pass private protected pub public raise return self static struct super switch this throw throws trait ' +
      'True true try type typeof undefined use var void while with yield'
    ).split(' '),
  );
  const hashComments = new Set(['python', 'shellscript', 'ruby', 'perl', 'r', 'yaml', 'toml', 'dockerfile', 'makefile', 'powershell']);

  /** @param {string} s */
  function escapeHtml(s) {
    return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  }

  /** Highlighted HTML for one draft. @param {string} text @param {string} languageId */
  function highlight(text, languageId) {
    const lineComment = hashComments.has(languageId) ? '#' : '//';
    let out = '';
    let i = 0;
    const span = (/** @type {string} */ cls, /** @type {string} */ s) => `<span class="${cls}">${escapeHtml(s)}</span>`;
    while (i < text.length) {
      const rest = text.slice(i);
      let m;
      if (rest.startsWith(lineComment)) {
        const end = text.indexOf('\n', i);
        const s = end < 0 ? rest : text.slice(i, end);
        out += span('tok-comment', s);
        i += s.length;
      } else if (rest.startsWith('/*')) {
        const end = text.indexOf('*/', i + 2);
        const s = end < 0 ? rest : text.slice(i, end + 2);
        out += span('tok-comment', s);
        i += s.length;
      } else if ((m = /^("(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?|`(?:[^`\\]|\\.)*`?)/.exec(rest))) {
        out += span('tok-string', m[0]);
        i += m[0].length;
      } else if ((m = /^(0[xX][0-9a-fA-F_]+|\d[\d_]*(\.\d+)?([eE][+-]?\d+)?)/.exec(rest))) {
        out += span('tok-number', m[0]);
        i += m[0].length;
      } else if ((m = /^[A-Za-z_$][\w$]*/.exec(rest))) {
        const w = m[0];
        out += keywords.has(w) ? span('tok-keyword', w) : /^[A-Z]/.test(w) ? span('tok-type', w) : text[i + w.length] === '(' ? span('tok-function', w) : escapeHtml(w);
        i += w.length;
      } else {
        out += escapeHtml(text[i] ?? '');
        i++;
      }
    }
    return out;
  }

  // @ts-ignore a global for panel.js
  globalThis.specterHighlight = highlight;
})();
