// sottovoce leads: what visitors sent from finished forms (GET /api/agent/submissions), newest
// first, apart from escalations. Every value is a text node; nothing is parsed as HTML.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const KINDS = { lead: 'Sales lead', newsletter: 'Newsletter sign-up', back_in_stock: 'Back in stock' };

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    for (const child of children) node.append(typeof child === 'string' ? document.createTextNode(child) : child);
    return node;
  }

  function row(s) {
    const details = el('dl', { class: 'lead-fields' });
    for (const [name, value] of Object.entries(s.fields)) details.append(el('dt', {}, name), el('dd', {}, String(value)));
    const when = new Date(s.received_ms);
    return el('tr', { 'data-kind': s.kind },
      el('td', {}, el('time', { datetime: when.toISOString() }, when.toLocaleString())),
      el('td', {}, KINDS[s.kind] || s.kind),
      el('td', {}, s.locale),
      el('td', {}, details));
  }

  async function load() {
    const kind = $('kind').value;
    const response = await fetch(`/api/agent/submissions${kind ? `?kind=${encodeURIComponent(kind)}` : ''}`, { credentials: 'same-origin' });
    if (response.status === 401) {
      location.href = './';
      return;
    }
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      $('denied').textContent = data && data.error ? data.error.message : `HTTP ${response.status}`;
      $('denied').hidden = false;
      return;
    }
    $('denied').hidden = true;
    $('rows').tBodies[0].replaceChildren(...data.submissions.map(row));
    $('empty').hidden = data.submissions.length > 0;
    $('list').hidden = false;
  }

  const fail = (e) => { $('denied').textContent = e.message; $('denied').hidden = false; };
  $('kind').addEventListener('change', () => load().catch(fail));
  load().catch(fail);
})();
