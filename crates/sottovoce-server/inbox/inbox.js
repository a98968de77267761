// sottovoce agent inbox. Every piece of visitor, bot or agent text becomes a text node: this
// file never parses HTML. Served under a CSP allowing only this script and inbox.css.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  let current = null; // id of the open conversation
  let events = null; // EventSource on /api/agent/events
  let refreshTimer = null;
  let me = null; // the signed-in agent's email
  let clockSkew = 0; // server clock minus this page's clock, in ms (from the list's now_ms)
  const listed = new Map(); // conversation id -> its entry in the last queue read

  /** Builds an element with text children (strings become text nodes) and attributes. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === 'class') node.className = value;
      else node.setAttribute(name, value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === 'string' ? document.createTextNode(child) : child);
    }
    return node;
  }

  function say(text) {
    $('status').textContent = text;
  }

  async function api(method, path, body) {
    const init = { method, headers: {}, credentials: 'same-origin' };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    if (response.status === 401 && path !== '/api/agent/login') {
      showLogin();
    }
    if (!response.ok) {
      const message = data && data.error ? data.error.message : `HTTP ${response.status}`;
      throw new Error(message);
    }
    return data;
  }

  const time = (ms) => new Date(ms).toLocaleString();
  const percent = (x) => `${Math.round(x * 100)}%`;

  function showLogin() {
    if (events) {
      events.close();
      events = null;
    }
    current = null;
    if (presenceTimer) {
      clearInterval(presenceTimer);
      presenceTimer = null;
    }
    $('app').hidden = true;
    $('whoami').hidden = true;
    $('login').hidden = false;
    $('email').focus();
  }

  // Presence is a 60 s lease on the server: renewed every 25 s while this page is open, so a
  // closed tab or a sleeping laptop stops counting as online; leaving the page says `away`.
  let presenceTimer = null;
  function sendPresence() {
    api('POST', '/api/agent/presence', { status: $('presence').value }).catch(() => {});
  }
  function startPresence() {
    if (presenceTimer) clearInterval(presenceTimer);
    sendPresence();
    presenceTimer = setInterval(() => {
      sendPresence();
      loadTeam().catch(() => {});
    }, 25000);
  }
  $('presence').addEventListener('change', sendPresence);
  window.addEventListener('pagehide', () => {
    const body = new Blob([JSON.stringify({ status: 'away' })], { type: 'application/json' });
    navigator.sendBeacon('/api/agent/presence', body);
  });

  async function showApp(email) {
    me = email;
    startPresence();
    $('login').hidden = true;
    $('agent-email').textContent = email;
    $('whoami').hidden = false;
    $('app').hidden = false;
    await loadList();
    await loadTeam();
    follow();
  }

  /** `m:ss` or `h:mm:ss` for a duration in ms. */
  function clock(ms) {
    const total = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const sec = String(total % 60).padStart(2, '0');
    return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
  }

  // The waiting-time clocks tick once a second, from the server's clock.
  function tick() {
    const now = Date.now() + clockSkew;
    for (const node of document.querySelectorAll('[data-waiting-since]')) {
      node.textContent = `waiting ${clock(now - Number(node.getAttribute('data-waiting-since')))}`;
    }
  }
  setInterval(tick, 1000);

  /** "waiting 15 min +30 · unhappy (sentiment -0.63) +25": why a conversation is where it is. */
  function why(priority) {
    if (!priority || priority.reasons.length === 0) return 'nothing urgent';
    return priority.reasons.map((r) => `${r.text} +${r.points}`).join(' · ');
  }

  function waitingNode(c) {
    if (typeof c.waiting_since_ms !== 'number') return el('span', { class: 'waiting' }, 'answered');
    return el('span', { class: 'waiting', 'data-waiting-since': String(c.waiting_since_ms) }, '');
  }

  // Colleagues and their presence, in the header and in the "Assign to" list.
  async function loadTeam() {
    const data = await api('GET', '/api/agent/agents');
    const team = $('team');
    team.replaceChildren(...data.agents.map((a) => el('span', { class: a.presence, title: `${a.assigned_open} open assigned` }, `${a.email} (${a.presence})`)));
    team.hidden = false;
    const select = $('assign-to');
    select.replaceChildren(el('option', { value: '' }, 'Choose…'), ...data.agents.map((a) => el('option', { value: a.email }, `${a.email} (${a.presence})`)));
  }

  function filterQuery() {
    const params = new URLSearchParams({ status: 'open' });
    for (const name of ['assignee', 'priority', 'channel', 'locale']) {
      const value = $(`filter-${name}`).value.trim();
      if (value) params.set(name, value);
    }
    return params.toString();
  }

  function visitorName(c) {
    const name = c.profile && typeof c.profile.name === 'string' ? c.profile.name : '';
    return name || `Visitor ${c.id.slice(2, 8)}`;
  }

  /** "verified customer <id>" when the site's user_hash vouched for the id, else "unverified". */
  function identityBadge(c) {
    const verified = c.identity === 'verified' && typeof c.customer_id === 'string';
    const label = verified ? `verified customer ${c.customer_id}` : 'unverified';
    return el('span', { class: `identity ${verified ? 'verified' : 'unverified'}` }, label);
  }

  async function loadList() {
    const data = await api('GET', `/api/agent/conversations?${filterQuery()}`);
    if (typeof data.now_ms === 'number') clockSkew = data.now_ms - Date.now();
    const list = $('conversations');
    list.replaceChildren();
    listed.clear();
    $('list-empty').hidden = data.conversations.length > 0;
    for (const c of data.conversations) {
      listed.set(c.id, c);
      const p = c.priority;
      const button = el(
        'button',
        { type: 'button', class: 'item', 'data-id': c.id, 'data-band': p ? p.band : '' },
        el('span', { class: 'name' }, visitorName(c)),
        el('span', { class: 'when' }, time(c.created_ms)),
        p ? el('span', { class: `band ${p.band}` }, `${p.band} · ${p.score}`) : null,
        waitingNode(c),
        p ? el('span', { class: 'why' }, `Why here: ${why(p)}`) : null,
        el('span', { class: 'assignee' }, c.assignee ? `assigned to ${c.assignee}` : 'unassigned'),
        identityBadge(c),
        c.channel && c.channel !== 'web' ? el('span', { class: 'channel' }, c.channel) : null,
        c.last_intent ? el('span', { class: 'intent' }, c.last_intent) : null,
        c.last_text ? el('span', { class: 'preview' }, c.last_text) : null,
      );
      if (c.id === current) button.setAttribute('aria-current', 'true');
      button.addEventListener('click', () => open(c.id));
      list.append(el('li', {}, button));
    }
    tick();
  }

  function annotation(m) {
    if (m.author !== 'visitor') return null;
    const parts = [];
    parts.push(m.intent ? `intent ${m.intent}` : 'no intent');
    if (typeof m.confidence === 'number') parts.push(`confidence ${percent(m.confidence)}`);
    if (typeof m.sentiment === 'number') parts.push(`sentiment ${m.sentiment.toFixed(2)}`);
    const mood = typeof m.sentiment !== 'number' ? '' : m.sentiment <= -0.3 ? ' negative' : m.sentiment >= 0.3 ? ' positive' : '';
    return el('p', { class: `annotation${mood}` }, parts.join(' · '));
  }

  function authorLabel(m) {
    if (m.author === 'agent') return m.author_name ? `Agent ${m.author_name}` : 'Agent';
    return m.author === 'bot' ? 'Bot' : 'Visitor';
  }

  async function open(id) {
    current = id;
    const data = await api('GET', `/api/agent/conversations/${encodeURIComponent(id)}`);
    if (current !== id) return;
    const c = data.conversation;
    $('placeholder').hidden = true;
    $('conversation-body').hidden = false;
    $('conversation-title').replaceChildren(visitorName(c), ' ', identityBadge(c));
    const meta = [`locale ${c.locale}`, `since ${time(c.created_ms)}`, c.status];
    for (const [key, value] of Object.entries(c.profile || {})) {
      if (key !== 'name') meta.push(`${key}: ${value}`);
    }
    if (c.page_url) meta.push(`from ${c.page_url}`);
    $('conversation-meta').textContent = meta.join(' · ');
    $('resolve').disabled = c.status !== 'open';
    const entry = listed.get(id);
    $('conversation-priority').textContent = entry && entry.priority ? `Priority ${entry.priority.band} (${entry.priority.score}): ${why(entry.priority)}` : '';
    $('assignee').textContent = c.assignee ? `Assigned to ${c.assignee}` : 'Unassigned';
    $('take').disabled = c.status !== 'open' || c.assignee === me;
    $('release').disabled = c.status !== 'open' || !c.assignee;
    $('assign-to').disabled = c.status !== 'open';
    $('assign-to').value = '';

    const canned = $('canned');
    canned.replaceChildren();
    $('canned-empty').hidden = (data.canned || []).length > 0;
    for (const k of data.canned || []) {
      const button = el('button', { type: 'button', class: 'canned-reply', title: k.complete ? k.text : `${k.text} (fill in the variables)` }, k.title);
      button.addEventListener('click', () => {
        $('reply').value = k.text;
        $('reply').focus();
      });
      canned.append(el('li', {}, button));
    }

    showSummary(data.summary, c);

    const log = $('transcript');
    log.replaceChildren();
    for (const m of data.messages) {
      log.append(
        el(
          'li',
          { class: `message ${m.author}`, 'data-id': String(m.id) },
          el('p', { class: 'who' }, `${authorLabel(m)} · ${time(m.created_ms)}`),
          el('p', { class: 'text' }, m.text),
          annotation(m),
        ),
      );
    }
    log.lastElementChild && log.lastElementChild.scrollIntoView({ block: 'nearest' });

    const list = $('suggestions');
    list.replaceChildren();
    $('suggestions-empty').hidden = data.suggestions.length > 0;
    for (const s of data.suggestions) {
      const button = el('button', { type: 'button', class: 'suggestion', title: `Reply for intent ${s.intent}` }, s.text);
      button.addEventListener('click', () => {
        $('reply').value = s.text;
        $('reply').focus();
      });
      list.append(el('li', {}, button));
    }
    for (const item of $('conversations').querySelectorAll('button.item')) {
      if (item.getAttribute('data-id') === id) item.setAttribute('aria-current', 'true');
      else item.removeAttribute('aria-current');
    }
  }

  /** "Asked about returns → human · mood worsening (0.10 → -0.70) · 4 visitor messages, 1 not understood". */
  function showSummary(summary, c) {
    const parts = [];
    if (summary) {
      parts.push(summary.intents.length ? `Asked about ${summary.intents.join(' → ')}` : 'No intent recognised');
      if (summary.mood) parts.push(`mood ${summary.mood.trend} (${summary.mood.first.toFixed(2)} → ${summary.mood.last.toFixed(2)})`);
      parts.push(`${summary.visitor_messages} visitor message${summary.visitor_messages === 1 ? '' : 's'}`);
      if (summary.unrecognised) parts.push(`${summary.unrecognised} not understood by the bot`);
    }
    $('summary').textContent = parts.join(' · ');
    const mentions = (summary && summary.mentions) || [];
    $('mentions').textContent = mentions.length ? `Mentioned: ${mentions.map((m) => `${m.entity} ${m.value}`).join(' · ')}` : '';
    // What the visitor agreed to share, beside the transcript.
    const facts = Object.entries(c.profile || {}).filter(([, v]) => v !== null && typeof v !== 'object');
    if (c.customer_id) facts.push(['customer', `${c.customer_id} (${c.identity})`]);
    $('about-visitor').replaceChildren(...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, String(v))]));
  }

  function refreshSoon(conversationId) {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(async () => {
      try {
        await loadList();
        await loadTeam();
        if (current && (conversationId === null || conversationId === current)) await open(current);
      } catch (e) {
        say(e.message);
      }
    }, 100);
  }

  function follow() {
    if (events) return;
    events = new EventSource('/api/agent/events');
    events.addEventListener('change', (event) => {
      let change = null;
      try {
        change = JSON.parse(event.data);
      } catch (_) {
        return;
      }
      refreshSoon(change.conversation_id);
    });
    // EventSource reconnects by itself; after a gap, read everything again.
    events.addEventListener('open', () => refreshSoon(null));
  }

  $('login-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    $('login-error').textContent = '';
    try {
      const data = await api('POST', '/api/agent/login', { email: $('email').value, password: $('password').value });
      $('password').value = '';
      api('GET', '/api/agent/me').then((who) => { $('dashboard-link').hidden = who.role !== 'owner'; }).catch(() => {});
      await showApp(data.email);
    } catch (e) {
      $('login-error').textContent = e.message;
    }
  });

  $('sign-out').addEventListener('click', async () => {
    try {
      await api('POST', '/api/agent/logout', {});
    } catch (_) {
      // Signed out either way.
    }
    showLogin();
  });

  $('reply-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = $('reply').value;
    if (!current || !text.trim()) return;
    try {
      await api('POST', `/api/agent/conversations/${encodeURIComponent(current)}/messages`, { text });
      $('reply').value = '';
      say('Reply sent.');
      await open(current);
    } catch (e) {
      say(`Not sent: ${e.message}`);
    }
  });

  async function assign(assignee) {
    if (!current) return;
    try {
      const data = await api('POST', `/api/agent/conversations/${encodeURIComponent(current)}/assign`, { assignee });
      say(data.assignee ? `Assigned to ${data.assignee}.` : 'Released.');
      await loadList();
      await open(current);
      await loadTeam();
    } catch (e) {
      say(e.message);
    }
  }
  $('take').addEventListener('click', () => assign('me'));
  $('release').addEventListener('click', () => assign(null));
  $('assign-to').addEventListener('change', () => {
    if ($('assign-to').value) assign($('assign-to').value);
  });

  $('canned-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await api('POST', '/api/agent/canned', { title: $('canned-new-title').value, text: $('canned-new-text').value });
      $('canned-new-title').value = '';
      $('canned-new-text').value = '';
      say('Canned reply saved.');
      if (current) await open(current);
    } catch (e) {
      say(`Not saved: ${e.message}`);
    }
  });

  // A select changes on pick, the language box as it is typed in (refreshSoon debounces).
  $('filters').addEventListener('change', () => refreshSoon(null));
  $('filters').addEventListener('input', () => refreshSoon(null));
  $('filters').addEventListener('submit', (event) => {
    event.preventDefault();
    refreshSoon(null);
  });

  $('resolve').addEventListener('click', async () => {
    if (!current) return;
    try {
      await api('POST', `/api/agent/conversations/${encodeURIComponent(current)}/resolve`, {});
      say('Conversation resolved.');
      current = null;
      $('conversation-body').hidden = true;
      $('placeholder').hidden = false;
      await loadList();
    } catch (e) {
      say(e.message);
    }
  });

  (async () => {
    try {
      const who = await api('GET', '/api/agent/me');
      $('dashboard-link').hidden = who.role !== 'owner';
      if (who.email) await showApp(who.email);
      else showLogin();
    } catch (_) {
      showLogin();
    }
  })();
})();
