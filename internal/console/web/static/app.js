// planner console: the pages' behaviour. Plain JavaScript, no build step;
// it talks to the console's JSON API with the session's CSRF token.
(function () {
  'use strict';

  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const csrf = () => { const m = $('meta[name="csrf-token"]'); return m ? m.content : ''; };

  async function api(method, url, body) {
    const opts = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
    if (method !== 'GET') opts.headers['X-CSRF-Token'] = csrf();
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    const res = await fetch(url, opts);
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (!res.ok) {
      const err = new Error((data && data.error) || (res.status + ' ' + res.statusText));
      err.data = data || {};
      err.status = res.status;
      throw err;
    }
    return data;
  }

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === false || v === null || v === undefined) continue;
      if (k === 'text') e.textContent = v;
      else if (k === 'class') e.className = v;
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const k of kids) if (k !== null && k !== undefined) e.append(k);
    return e;
  }

  const debounce = (f, ms) => { let t; return (...a) => { clearTimeout(t); t = setTimeout(() => f(...a), ms); }; };

  // ---- times in the browser's zone
  const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  function localTime(iso) { const d = new Date(iso); return isNaN(d) ? iso : dateFmt.format(d); }
  function localTimes(root) {
    $$('time[datetime]', root).forEach((t) => {
      const d = new Date(t.getAttribute('datetime'));
      if (!isNaN(d)) { t.textContent = dateFmt.format(d); t.title = d.toString(); }
    });
  }

  function showResult(target, ok, text) {
    if (!target) { if (ok === false) window.alert(text); return; }
    target.textContent = text;
    target.classList.toggle('ok', ok === true);
    target.classList.toggle('bad', ok === false);
    const row = target.closest('.result-row');
    if (row) row.hidden = false;
  }

  // ---- buttons that POST or DELETE
  async function actionButton(btn, method, url) {
    if (btn.dataset.confirm && !window.confirm(btn.dataset.confirm)) return;
    const body = btn.dataset.body ? JSON.parse(btn.dataset.body) : undefined;
    const target = btn.dataset.show ? $(btn.dataset.show) : $('#action-result');
    btn.disabled = true;
    try {
      const data = await api(method, url, body);
      if (btn.dataset.then) { window.location.assign(btn.dataset.then); return; }
      if (btn.dataset.show) { showResult(target, data.ok !== false, describe(data)); return; }
      window.location.reload();
    } catch (e) {
      showResult(target, false, e.message);
    } finally {
      btn.disabled = false;
    }
  }

  function describe(data) {
    if (data && Array.isArray(data.channels)) {
      return data.channels.map((c) => c.channel + ': ' + (c.ok ? 'delivered' : c.error)).join(' · ');
    }
    return 'Done.';
  }

  document.addEventListener('click', (ev) => {
    const post = ev.target.closest('button[data-post]');
    if (post) { ev.preventDefault(); actionButton(post, 'POST', post.dataset.post); return; }
    const del = ev.target.closest('button[data-delete]');
    if (del) { ev.preventDefault(); actionButton(del, 'DELETE', del.dataset.delete); return; }
    const test = ev.target.closest('button[data-test]');
    if (test) { ev.preventDefault(); testConnection(test); return; }
    const signin = ev.target.closest('button[data-signin]');
    if (signin) { ev.preventDefault(); startSignIn(signin.dataset.signin, signin.dataset.scheme === 'DeviceCode'); }
  });

  // ---- connection tests
  async function testConnection(btn) {
    const row = btn.closest('tr');
    const next = row && row.nextElementSibling;
    const target = next && next.classList.contains('result-row') ? $('.result', next) : null;
    btn.disabled = true;
    showResult(target, null, 'Testing…');
    try {
      const r = await api('POST', btn.dataset.test);
      showResult(target, r.ok, btn.dataset.kind === 'source' ? sourceTestText(r) : destinationTestText(r));
    } catch (e) {
      showResult(target, false, e.message);
    } finally {
      btn.disabled = false;
    }
  }
  function sourceTestText(r) {
    if (!r.ok) return 'Failed: ' + r.error;
    let who = '';
    if (r.sign_in && r.sign_in.signed_in) who = 'Signed in as ' + (r.sign_in.account || 'the app') + (r.sign_in.tenant_id ? ' (tenant ' + r.sign_in.tenant_id + ')' : '') + ' · ';
    return 'OK · ' + who + r.plans + ' plans reachable · ' + r.latency_ms + ' ms · ' + r.requests + ' Graph requests';
  }
  function destinationTestText(r) {
    if (!r.ok) return 'Failed: ' + r.error;
    return 'OK · ' + r.kind + ' reachable · can create tables · ' + r.latency_ms + ' ms';
  }

  // ---- sign-in from the page
  let signinSource = null;
  async function startSignIn(source, deviceCode) {
    const dlg = $('#signin-dialog');
    if (!dlg) return;
    signinSource = source;
    dlg.hidden = false;
    $('#signin-title').textContent = 'Sign in ' + source;
    const body = $('.signin-body', dlg);
    body.textContent = 'Starting…';
    try {
      let flow = await api('POST', '/api/connections/sources/' + encodeURIComponent(source) + '/signin', { device_code: !!deviceCode });
      for (;;) {
        renderFlow(body, flow);
        if (flow.state === 'done' || flow.state === 'failed' || signinSource !== source) return;
        flow = await api('GET', '/api/connections/sources/' + encodeURIComponent(source) + '/signin?wait=25&after=' + flow.version);
      }
    } catch (e) {
      body.textContent = e.message;
    }
  }
  function renderFlow(body, f) {
    body.textContent = '';
    switch (f.state) {
      case 'browser':
        body.append(el('p', { text: 'Open the sign-in page, sign in, and come back here:' }),
          el('p', {}, el('a', { href: f.url, target: '_blank', rel: 'noopener noreferrer', class: 'button primary', id: 'signin-link', text: 'Sign in with Microsoft' })),
          el('p', { class: 'hint', text: 'The page answers this console on this machine; from another machine, use a device code.' }));
        break;
      case 'device_code':
        body.append(el('p', {}, 'Open ', el('a', { href: f.verification_uri, target: '_blank', rel: 'noopener noreferrer', text: f.verification_uri }), ' on any device and enter:'),
          el('p', {}, el('span', { class: 'device-code', id: 'device-code', text: f.user_code })),
          el('p', { class: 'hint', text: f.expires_at ? 'The code expires at ' + localTime(f.expires_at) + '.' : '' }));
        break;
      case 'done':
        body.append(el('p', { class: 'result ok', text: 'Signed in' + (f.sign_in && f.sign_in.account ? ' as ' + f.sign_in.account : '') + '.' }));
        break;
      case 'failed':
        body.append(el('p', { class: 'result bad', text: f.error || 'The sign-in failed.' }));
        break;
      default:
        body.append(el('p', { text: 'Starting…' }));
    }
    if (f.notice) body.append(el('p', { class: 'hint', text: f.notice }));
  }
  const dlgClose = $('#signin-close');
  if (dlgClose) {
    dlgClose.addEventListener('click', () => {
      const src = signinSource;
      signinSource = null;
      $('#signin-dialog').hidden = true;
      if (src) api('DELETE', '/api/connections/sources/' + encodeURIComponent(src) + '/signin').catch(() => {});
      window.location.reload();
    });
    $('#signin-device').addEventListener('click', async () => {
      const src = signinSource;
      if (!src) return;
      await api('DELETE', '/api/connections/sources/' + encodeURIComponent(src) + '/signin').catch(() => {});
      startSignIn(src, true);
    });
  }

  // ---- runs in progress: refresh when they end
  async function followRun(id, onLog) {
    for (;;) {
      try {
        const r = await api('GET', '/api/runs/' + encodeURIComponent(id) + '?wait=25');
        if (onLog) onLog(r.log);
        if (r.finished) { window.location.reload(); return; }
      } catch (e) {
        return;
      }
    }
  }

  // ---- forms: errors next to their fields
  function clearErrors(form) {
    $$('.field-error, .form-error', form).forEach((e) => { e.textContent = ''; });
    $$('.invalid', form).forEach((e) => e.classList.remove('invalid'));
  }
  function showError(form, err) {
    const field = (err.data && err.data.field) || '';
    let placed = false;
    if (field) {
      const root = field.split(/[.[]/)[0];
      const slot = $('.field-error[data-for="' + field + '"]', form) || $('.field-error[data-for="' + root + '"]', form);
      if (slot) { slot.textContent = err.message; placed = true; }
      const m = /^destinations\[(\d+)\](?:\.(\w+))?/.exec(field);
      let input = null;
      if (m) {
        const row = $$('.dest-row', form)[+m[1]];
        if (row) input = $('[data-field="' + (m[2] || 'url') + '"]', row);
      } else {
        input = $('[name="' + field + '"]', form) || $('[data-prop="' + field.replace(/^properties\./, '') + '"]', form) || $('[name="' + root + '"]', form);
      }
      if (input) { input.classList.add('invalid'); input.focus(); }
    }
    if (!placed) $('.form-error', form).textContent = err.message;
  }

  async function submitJSON(form, method, url, body, then) {
    clearErrors(form);
    const btn = $('button[type="submit"]', form);
    if (btn) btn.disabled = true;
    try {
      const data = await api(method, url, body);
      window.location.assign(typeof then === 'function' ? then(data) : then);
    } catch (e) {
      showError(form, e);
    } finally {
      if (btn) btn.disabled = false;
    }
  }

  // Generic serializer: name="a.b" nests; data-type int, float, bool, list.
  function formJSON(form) {
    const out = {};
    $$('[name]', form).forEach((inp) => {
      if (inp.type === 'hidden' && inp.name === 'csrf_token') return;
      let v;
      switch (inp.dataset.type) {
        case 'bool': v = inp.checked; break;
        case 'int': v = inp.value.trim() === '' ? 0 : parseInt(inp.value, 10); break;
        case 'float': v = inp.value.trim() === '' ? 0 : parseFloat(inp.value); break;
        case 'list': v = inp.value.split(',').map((s) => s.trim()).filter(Boolean); break;
        default: v = inp.value;
      }
      const path = inp.name.split('.');
      let o = out;
      for (let i = 0; i < path.length - 1; i++) o = o[path[i]] = o[path[i]] || {};
      o[path[path.length - 1]] = v;
    });
    return out;
  }

  // ---- the job editor
  function jobEditor(form) {
    const create = form.dataset.create === 'true';
    const picked = new Set(JSON.parse(form.dataset.tables || '[]'));
    const source = $('#job-source', form);
    const catalog = $('#catalog', form);

    async function loadCatalog() {
      catalog.textContent = '';
      catalog.append(el('p', { class: 'muted', text: 'Loading the tables of ' + source.value + '…' }));
      try {
        const cat = await api('GET', '/api/connections/sources/' + encodeURIComponent(source.value) + '/catalog');
        catalog.textContent = '';
        if (cat.note) catalog.append(el('p', { class: 'catalog-note', text: cat.note }));
        const tools = el('div', { class: 'picker-tools' },
          el('button', { type: 'button', class: 'subtle', id: 'pick-all', text: 'All tables' }),
          el('button', { type: 'button', class: 'subtle', id: 'pick-none', text: 'None' }));
        catalog.append(tools);
        for (const t of cat.tables) {
          if (/^sys_/i.test(t.name)) continue;
          const cb = el('input', { type: 'checkbox', value: t.name, 'data-table': t.name, checked: picked.has(t.name) });
          const box = el('div', { class: 'table-pick' + (picked.has(t.name) ? ' checked' : '') },
            el('label', { title: t.description }, cb, t.name),
            el('details', {}, el('summary', { text: t.columns.length + ' columns' }),
              el('ul', {}, ...t.columns.map((c) => el('li', { title: c.description }, el('code', { class: c.key ? 'key' : '', text: c.name }), ' ' + c.type.toLowerCase() + (c.key ? ' · key' : ''))))));
          cb.addEventListener('change', () => {
            if (cb.checked) picked.add(t.name); else picked.delete(t.name);
            box.classList.toggle('checked', cb.checked);
          });
          catalog.append(box);
        }
        $('#pick-all', tools).addEventListener('click', () => $$('input[data-table]', catalog).forEach((c) => { if (!c.checked) c.click(); }));
        $('#pick-none', tools).addEventListener('click', () => $$('input[data-table]', catalog).forEach((c) => { if (c.checked) c.click(); }));
        catalog.dataset.loaded = 'true';
      } catch (e) {
        catalog.textContent = '';
        catalog.append(el('p', { class: 'error', text: e.message }));
      }
    }
    source.addEventListener('change', () => { loadCatalog(); showPreview(); });
    loadCatalog();

    // Statements checked as they are typed.
    const stmts = $('#statements', form);
    const check = $('#statements-check', form);
    const validate = debounce(async () => {
      const text = stmts.value;
      if (text.trim() === '') { check.textContent = ''; check.className = 'check'; stmts.classList.remove('invalid'); return; }
      try {
        const r = await api('POST', '/api/validate/script', { script: text });
        check.textContent = '';
        if (r.ok) {
          check.className = 'check ok';
          check.append('✓ ' + r.statements.length + (r.statements.length === 1 ? ' statement' : ' statements') + ' parse: ',
            r.statements.map((s) => 'line ' + s.line + ' → ' + s.target).join(' · '));
        } else {
          check.className = 'check bad';
          check.append('Line ' + r.line + ', column ' + r.column + ': ' + r.error);
        }
        stmts.classList.toggle('invalid', !r.ok);
        check.dataset.state = r.ok ? 'ok' : 'bad';
      } catch (e) {
        check.textContent = e.message;
      }
    }, 250);
    stmts.addEventListener('input', validate);
    if (stmts.value.trim() !== '') validate();

    // Schedule picker and preview.
    const pick = $('#schedule-pick', form);
    const at = $('#schedule-at', form);
    const atLabel = $('#schedule-at-label', form);
    const spec = $('#schedule', form);
    const preview = $('#schedule-preview', form);
    function syncPick() {
      const v = spec.value.trim().toLowerCase();
      let chosen = 'custom';
      for (const o of pick.options) {
        if (o.value === v) chosen = o.value;
      }
      const m = /^(daily|weekly|monthly) at (\d\d:\d\d)$/.exec(v);
      if (m) { chosen = m[1] + ' at'; at.value = m[2]; }
      if (v === '') chosen = '';
      pick.value = chosen;
      atLabel.classList.toggle('hidden', !/ at$/.test(chosen));
    }
    pick.addEventListener('change', () => {
      if (pick.value === 'custom') { spec.focus(); atLabel.classList.add('hidden'); return; }
      spec.value = / at$/.test(pick.value) ? pick.value + ' ' + at.value : pick.value;
      atLabel.classList.toggle('hidden', !/ at$/.test(pick.value));
      showPreview();
    });
    at.addEventListener('change', () => { if (/ at$/.test(pick.value)) { spec.value = pick.value + ' ' + at.value; showPreview(); } });
    const showPreview = debounce(async () => {
      try {
        const r = await api('GET', '/api/schedule?schedule=' + encodeURIComponent(spec.value) + '&source=' + encodeURIComponent(source.value));
        preview.textContent = '';
        if (!r.ok) { preview.className = 'check bad'; preview.textContent = r.error; spec.classList.add('invalid'); return; }
        spec.classList.remove('invalid');
        preview.className = 'check ok';
        if (r.manual) { preview.textContent = 'Runs only when started (Run now, or planner jobs run).'; return; }
        preview.append('Next runs:', el('ul', { class: 'next-runs', id: 'next-runs' }, ...r.next.map((t) => el('li', {}, el('time', { datetime: t, text: localTime(t) })))));
      } catch (e) {
        preview.textContent = e.message;
      }
    }, 250);
    spec.addEventListener('input', () => { syncPick(); showPreview(); });
    syncPick();
    showPreview();

    // Destinations.
    const rows = $('#dest-rows', form);
    const tmpl = $('#dest-template', form);
    function wireRow(row) {
      const sel = $('[data-field="destination"]', row);
      const urlField = $('.url-field', row);
      const sync = () => urlField.classList.toggle('hidden', sel.value !== '');
      sel.addEventListener('change', sync);
      sync();
      $('.remove-dest', row).addEventListener('click', () => row.remove());
    }
    $$('.dest-row', rows).forEach(wireRow);
    $('#add-destination', form).addEventListener('click', () => {
      const row = tmpl.content.firstElementChild.cloneNode(true);
      rows.append(row);
      wireRow(row);
    });

    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const name = $('#job-name', form).value.trim();
      const order = $$('input[data-table]', catalog).map((c) => c.value);
      const tables = catalog.dataset.loaded ? order.filter((t) => picked.has(t)) : Array.from(picked);
      const body = {
        name, source: source.value, schedule: spec.value.trim(), tables, statements: stmts.value,
        destinations: $$('.dest-row', rows).map((row) => {
          const d = {};
          for (const f of $$('[data-field]', row)) d[f.dataset.field] = f.value.trim();
          if (d.destination) delete d.url;
          return d;
        }),
        alerts: {
          on: $('#job-alert-on', form).value,
          email_to: $('#job-alert-email', form).value.split(',').map((s) => s.trim()).filter(Boolean),
          webhook_url: $('#job-alert-webhook', form).value.trim(),
          clear_webhook: !!($('#job-alert-webhook-clear', form) || {}).checked,
        },
      };
      const url = create ? '/api/jobs' : '/api/jobs/' + encodeURIComponent(form.dataset.name);
      submitJSON(form, create ? 'POST' : 'PUT', url, body, (j) => '/jobs/' + encodeURIComponent(j.name));
    });
  }

  // ---- the source editor
  function sourceEditor(form) {
    const create = form.dataset.create === 'true';
    const kind = $('#source-kind', form);
    const sync = () => { $('.needs-signin', form).hidden = kind.value === 'Sandbox'; };
    kind.addEventListener('change', sync);
    sync();
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const props = {};
      $$('[data-prop]', form).forEach((i) => { props[i.dataset.prop] = i.value.trim(); });
      if (kind.value === 'Sandbox') {
        props.Sandbox = 'true';
        props.AuthScheme = '';
      } else {
        props.Sandbox = '';
        props.AuthScheme = kind.value;
      }
      const clear = $$('[data-clear]', form).filter((c) => c.checked).map((c) => c.dataset.clear);
      const name = $('#source-name', form).value.trim();
      const body = { name, properties: props, clear };
      submitJSON(form, create ? 'POST' : 'PUT', create ? '/api/connections/sources' : '/api/connections/sources/' + encodeURIComponent(form.dataset.name), body, '/connections');
    });
  }

  // ---- the destination editor
  function destinationEditor(form) {
    const create = form.dataset.create === 'true';
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const body = { name: $('#destination-name', form).value.trim(), url: $('#destination-url', form).value.trim() };
      submitJSON(form, create ? 'POST' : 'PUT', create ? '/api/connections/destinations' : '/api/connections/destinations/' + encodeURIComponent(form.dataset.name), body, '/connections');
    });
    $('#test-destination', form).addEventListener('click', async (ev) => {
      const btn = ev.currentTarget;
      const out = $('#destination-test', form);
      clearErrors(form);
      btn.disabled = true;
      showResult(out, null, 'Testing…');
      try {
        const body = { url: $('#destination-url', form).value.trim() };
        if (!create) body.name = form.dataset.name;
        const r = await api('POST', '/api/connections/destinations/test', body);
        showResult(out, r.ok, destinationTestText(r));
      } catch (e) {
        showResult(out, false, e.message);
      } finally {
        btn.disabled = false;
      }
    });
  }

  // ---- the alerts form
  function alertsEditor(form) {
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      submitJSON(form, 'PUT', '/api/alerts', formJSON(form), '/alerts');
    });
  }

  document.addEventListener('DOMContentLoaded', () => {
    localTimes(document);
    const job = $('#job-form'); if (job) jobEditor(job);
    const src = $('#source-form'); if (src) sourceEditor(src);
    const dst = $('#destination-form'); if (dst) destinationEditor(dst);
    const al = $('#alerts-form'); if (al) alertsEditor(al);
    const running = $('[data-running]');
    if (running) {
      const log = $('#run-log');
      followRun(running.dataset.running, log ? (t) => { if (t) log.textContent = t; } : null);
    }
    document.body.dataset.ready = 'true';
  });
})();
