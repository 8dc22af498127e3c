// Completions Panel webview: shows the k drafts side by side as they stream in, highlighted by
// highlight.js (loaded first), and sends the index of the accepted draft back to the extension.
// No network, no external libraries.
// @ts-check
(function () {
  // @ts-ignore acquireVsCodeApi is provided by the webview host.
  const vscode = acquireVsCodeApi();
  const draftsEl = /** @type {HTMLElement} */ (document.getElementById('drafts'));
  const statusEl = /** @type {HTMLElement} */ (document.getElementById('status'));
  const whereEl = /** @type {HTMLElement} */ (document.getElementById('where'));
  const refreshEl = /** @type {HTMLElement} */ (document.getElementById('refresh'));
  let requestId = '';
  let languageId = 'plaintext';
  let k = 3;

  /** @type {(text: string, languageId: string) => string} */
  // @ts-ignore defined by highlight.js, loaded first.
  const highlightCode = window.specterHighlight;
  /** @param {string} text */
  const highlight = (text) => highlightCode(text, languageId);

  /** @param {{ text: string, done: boolean, stopReason?: string }[]} drafts @param {boolean} final @param {string | undefined} note */
  function render(drafts, final, note) {
    draftsEl.style.setProperty('--columns', String(Math.max(1, Math.min(drafts.length || k, 4))));
    draftsEl.replaceChildren();
    if (drafts.length === 0) {
      const p = document.createElement('p');
      p.className = 'muted empty';
      p.textContent = final ? (note ?? 'No completions here.') : 'Generating…';
      draftsEl.append(p);
    }
    drafts.forEach((d, index) => {
      const card = document.createElement('section');
      card.className = 'draft' + (d.done ? ' done' : ' streaming');
      card.dataset['index'] = String(index);
      const head = document.createElement('div');
      head.className = 'draft-head';
      const title = document.createElement('span');
      title.textContent = `Draft ${index + 1}` + (d.done ? '' : ' …');
      const button = document.createElement('button');
      button.className = 'accept';
      button.dataset['index'] = String(index);
      button.textContent = 'Accept';
      button.title = 'Insert this completion at the cursor';
      button.disabled = !final;
      button.addEventListener('click', () => vscode.postMessage({ type: 'accept', requestId, index }));
      head.append(title, button);
      const pre = document.createElement('pre');
      pre.className = 'code';
      // highlight() escapes every character of the draft: the model's text never becomes markup.
      pre.innerHTML = highlight(d.text) || '<span class="muted">(empty)</span>';
      card.append(head, pre);
      draftsEl.append(card);
    });
    statusEl.textContent = final ? (note ?? `${drafts.length} draft${drafts.length === 1 ? '' : 's'}`) : 'generating…';
  }

  window.addEventListener('message', (event) => {
    const m = event.data;
    if (m.type === 'start') {
      requestId = m.requestId;
      languageId = m.languageId;
      k = m.k;
      whereEl.textContent = `${m.file}:${m.line}`;
      render([], false, undefined);
    } else if (m.type === 'drafts' && m.requestId === requestId) {
      render(m.drafts, m.final, m.note);
    } else if (m.type === 'accepted' && m.requestId === requestId) {
      const card = draftsEl.querySelector(`.draft[data-index="${m.index}"]`);
      card?.classList.add('accepted');
      statusEl.textContent = `Inserted draft ${m.index + 1}`;
    }
  });
  refreshEl.addEventListener('click', () => vscode.postMessage({ type: 'refresh' }));
  window.addEventListener('keydown', (e) => {
    // 1–9 accept the corresponding draft, as in Copilot's panel.
    const n = Number(e.key);
    if (n >= 1 && n <= 9) {
      const button = /** @type {HTMLButtonElement | null} */ (draftsEl.querySelector(`button.accept[data-index="${n - 1}"]`));
      if (button !== null && !button.disabled) button.click();
    }
  });
  vscode.postMessage({ type: 'ready' });
})();
