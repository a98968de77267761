// sottovoce owner dashboard: the widget's anonymous KPI reports, summed by the server
// (GET /api/owner/kpis), drawn as plain SVG. Every label is a text node; nothing is parsed as HTML.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const SVG = 'http://www.w3.org/2000/svg';

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    for (const child of children) node.append(typeof child === 'string' ? document.createTextNode(child) : child);
    return node;
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  const rate = (part, whole) => (whole > 0 ? part / whole : null);
  const percent = (x) => (x === null ? '–' : `${Math.round(x * 1000) / 10}%`);
  function csatMean(t) {
    const n = t.csat.reduce((a, b) => a + b, 0);
    return n === 0 ? null : t.csat.reduce((sum, count, i) => sum + count * (i + 1), 0) / n;
  }

  function cards(total) {
    const meanMs = total.answered > 0 ? total.first_answer_ms / total.answered : null;
    const mean = csatMean(total);
    const items = [
      ['Conversations', String(total.conversations)],
      ['Containment rate', percent(rate(total.contained, total.conversations))],
      ['Escalation rate', percent(rate(total.escalated, total.conversations))],
      ['Abandoned', percent(rate(total.abandoned, total.conversations))],
      ['Fallback rate', percent(rate(total.fallbacks, total.messages))],
      ['"Did you mean" picks', String(total.picks)],
      ['CSAT', mean === null ? '–' : `${mean.toFixed(2)} / 5`],
      ['Mean time to first answer', meanMs === null ? '–' : `${Math.round(meanMs)} ms`],
    ];
    $('cards').replaceChildren(...items.flatMap(([k, v]) => [el('div', { class: 'card' }, el('dt', {}, k), el('dd', {}, v))]));
  }

  // Three lines over the days, 0–100 %, with a legend; a day without conversations is a gap.
  function ratesChart(days) {
    const chart = $('rates');
    chart.replaceChildren();
    const [left, top, width, height] = [40, 10, 580, 170];
    for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
      const y = top + height * (1 - tick);
      chart.append(svg('line', { x1: left, x2: left + width, y1: y, y2: y, class: 'grid' }));
      chart.append(svg('text', { x: left - 6, y: y + 4, 'text-anchor': 'end', class: 'axis' }, `${tick * 100}%`));
    }
    const x = (i) => left + (days.length === 1 ? width / 2 : (width * i) / (days.length - 1));
    const series = [
      ['containment', 'Contained', (t) => rate(t.contained, t.conversations)],
      ['escalation', 'Escalated', (t) => rate(t.escalated, t.conversations)],
      ['fallback', 'Fallback rate', (t) => rate(t.fallbacks, t.messages)],
    ];
    series.forEach(([name, label, value], s) => {
      let path = '';
      let pen = 'M';
      days.forEach((d, i) => {
        const v = value(d.total);
        if (v === null) {
          pen = 'M';
          return;
        }
        path += `${pen}${x(i).toFixed(1)},${(top + height * (1 - v)).toFixed(1)} `;
        pen = 'L';
        chart.append(svg('circle', { cx: x(i).toFixed(1), cy: (top + height * (1 - v)).toFixed(1), r: 2.5, class: `dot ${name}` }, undefined));
      });
      if (path) chart.append(svg('path', { d: path.trim(), class: `series ${name}`, 'data-series': name }));
      chart.append(svg('rect', { x: left + s * 150, y: 200, width: 10, height: 10, class: `key ${name}` }));
      chart.append(svg('text', { x: left + s * 150 + 16, y: 209, class: 'axis' }, label));
    });
    chart.append(svg('text', { x: left, y: 196, class: 'axis' }, days[0].day));
    chart.append(svg('text', { x: left + width, y: 196, 'text-anchor': 'end', class: 'axis' }, days[days.length - 1].day));
  }

  function csatChart(total) {
    const chart = $('csat');
    chart.replaceChildren();
    const most = Math.max(1, ...total.csat);
    total.csat.forEach((count, i) => {
      const h = (110 * count) / most;
      const xPos = 60 + i * 110;
      chart.append(svg('rect', { x: xPos, y: 120 - h, width: 60, height: Math.max(h, 0.5), class: 'bar', 'data-rating': i + 1 }, undefined));
      chart.append(svg('text', { x: xPos + 30, y: 114 - h, 'text-anchor': 'middle', class: 'axis' }, String(count)));
      chart.append(svg('text', { x: xPos + 30, y: 140, 'text-anchor': 'middle', class: 'axis' }, `${i + 1} ★`));
    });
  }

  function tables(figures) {
    const intents = Object.entries(figures.total.intents).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 10);
    $('intents').replaceChildren(...intents.map(([name, n]) => el('tr', {}, el('td', {}, name), el('td', {}, String(n)))));
    if (intents.length === 0) $('intents').append(el('tr', {}, el('td', { colspan: '2' }, 'No conversations in this period.')));
    $('locales').replaceChildren(
      ...Object.entries(figures.locales).map(([locale, t]) => {
        const mean = csatMean(t);
        return el(
          'tr',
          {},
          el('td', {}, locale),
          el('td', {}, String(t.conversations)),
          el('td', {}, percent(rate(t.contained, t.conversations))),
          el('td', {}, percent(rate(t.escalated, t.conversations))),
          el('td', {}, percent(rate(t.fallbacks, t.messages))),
          el('td', {}, mean === null ? '–' : mean.toFixed(2)),
        );
      }),
    );
  }

  async function load() {
    const days = $('days').value;
    $('csv').setAttribute('href', `/api/owner/kpis.csv?days=${encodeURIComponent(days)}`);
    const response = await fetch(`/api/owner/kpis?days=${encodeURIComponent(days)}`, { credentials: 'same-origin' });
    if (response.status === 401) {
      window.location.assign('./');
      return;
    }
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      $('denied').textContent = data && data.error ? data.error.message : `HTTP ${response.status}`;
      $('denied').hidden = false;
      $('figures').hidden = true;
      return;
    }
    $('denied').hidden = true;
    $('figures').hidden = false;
    $('period-title').textContent = `Key figures, ${data.from} to ${data.to}`;
    cards(data.total);
    ratesChart(data.days);
    csatChart(data.total);
    tables(data);
    await unanswered(days);
  }

  async function unanswered(days) {
    $('jsonl').setAttribute('href', `/api/owner/unanswered.jsonl?days=${encodeURIComponent(days)}`);
    const response = await fetch(`/api/owner/unanswered?days=${encodeURIComponent(days)}`, { credentials: 'same-origin' });
    if (!response.ok) return;
    const data = await response.json();
    const rows = data.groups.slice(0, 20).map((g) => {
      const picked = Object.entries(g.picked).map(([intent, n]) => `${intent} (${n})`).join(', ');
      return el('tr', {}, el('td', {}, String(g.count)), el('td', {}, g.examples[0]), el('td', {}, g.examples.slice(1).join(' · ')), el('td', {}, picked || '–'));
    });
    if (rows.length === 0) rows.push(el('tr', {}, el('td', { colspan: '4' }, 'No question shared in this period.')));
    $('unanswered').replaceChildren(...rows);
  }

  $('days').addEventListener('change', () => load().catch((e) => { $('denied').textContent = e.message; $('denied').hidden = false; }));
  load().catch((e) => {
    $('denied').textContent = e.message;
    $('denied').hidden = false;
  });
})();
