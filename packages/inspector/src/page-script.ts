// The page's script, plain ES2020 in a string: it runs in the browser as written, no build step.
// Every value from the cluster (room, user, topic names) goes in through textContent or
// setAttribute, never as HTML.
export const PAGE_SCRIPT = String.raw`
(function () {
  'use strict'
  var root = document.documentElement
  var base = root.dataset.base
  var every = Number(root.dataset.interval) || 2000
  var canDisconnect = root.dataset.disconnect === 'true'
  var SVG = 'http://www.w3.org/2000/svg'
  var $ = function (id) { return document.getElementById(id) }

  function el(tag, attrs, kids) {
    var e = document.createElement(tag)
    for (var k in attrs || {}) e.setAttribute(k, attrs[k])
    ;(kids || []).forEach(function (c) { e.append(c instanceof Node ? c : document.createTextNode(String(c))) })
    return e
  }
  function fill(tbody, rows, empty, cols) {
    tbody.replaceChildren.apply(tbody, rows.length ? rows : [el('tr', {}, [el('td', { class: 'empty', colspan: String(cols) }, [empty])])])
  }
  function num(n) {
    if (n === null || n === undefined) return '–'
    if (n >= 1e6) return (n / 1e6).toFixed(1) + 'M'
    if (n >= 1e4) return (n / 1e3).toFixed(1) + 'k'
    return n < 10 && n % 1 ? n.toFixed(1) : String(Math.round(n))
  }
  function ago(ms) {
    var s = Math.max(0, Math.round(ms / 1000))
    if (s < 60) return s + 's'
    if (s < 3600) return Math.floor(s / 60) + 'm ' + (s % 60) + 's'
    return Math.floor(s / 3600) + 'h ' + Math.floor((s % 3600) / 60) + 'm'
  }
  function sum(o) { var t = 0; for (var k in o) t += o[k]; return t }
  async function get(url) {
    var r = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin' })
    var body = await r.json().catch(function () { return {} })
    if (!r.ok) throw new Error((body.error && body.error.message) || 'HTTP ' + r.status)
    return body
  }

  function chart(id, t, lines) {
    var box = $(id)
    var w = 300, h = 100, pad = 2
    var max = 0
    lines.forEach(function (l) { l.values.forEach(function (v) { if (v !== null && v > max) max = v }) })
    var top = max > 0 ? max * 1.15 : 1
    var t0 = t.length ? t[0] : 0, t1 = t.length ? t[t.length - 1] : 1
    var span = Math.max(1, t1 - t0)
    var svg = document.createElementNS(SVG, 'svg')
    svg.setAttribute('viewBox', '0 0 ' + w + ' ' + h)
    svg.setAttribute('preserveAspectRatio', 'none')
    for (var g = 1; g < 4; g++) {
      var grid = document.createElementNS(SVG, 'line')
      var gy = String((h * g) / 4)
      grid.setAttribute('x1', '0'); grid.setAttribute('x2', String(w)); grid.setAttribute('y1', gy); grid.setAttribute('y2', gy)
      grid.setAttribute('stroke', '#eef0f3'); grid.setAttribute('stroke-width', '1')
      svg.append(grid)
    }
    lines.forEach(function (l) {
      // A gap where no node reported counters: one polyline per run of values.
      var runs = [], run = []
      l.values.forEach(function (v, i) {
        if (v === null) { if (run.length) runs.push(run); run = []; return }
        var x = t.length > 1 ? ((t[i] - t0) / span) * w : w
        run.push(x.toFixed(1) + ',' + (h - pad - (v / top) * (h - 2 * pad)).toFixed(1))
      })
      if (run.length) runs.push(run)
      runs.forEach(function (r) {
        if (r.length === 1) r.push(r[0])
        var p = document.createElementNS(SVG, 'polyline')
        p.setAttribute('points', r.join(' '))
        p.setAttribute('fill', 'none'); p.setAttribute('stroke', l.color); p.setAttribute('stroke-width', '1.6')
        p.setAttribute('vector-effect', 'non-scaling-stroke')
        svg.append(p)
      })
    })
    var legend = el('div', { class: 'legend' }, lines.map(function (l) {
      var last = l.values.length ? l.values[l.values.length - 1] : null
      var swatch = el('i'); swatch.style.background = l.color
      return el('span', {}, [swatch, l.name + ' ', el('b', { class: 'now', 'data-series': l.name }, [num(last)])])
    }).concat([el('span', {}, ['max ' + num(max) + ' · ' + ago(span)])]))
    var old = box.querySelectorAll('svg, .legend')
    old.forEach(function (o) { o.remove() })
    box.append(svg, legend)
  }

  function roleChips(roles) {
    var names = Object.keys(roles).sort()
    return names.length ? names.map(function (r) { return el('span', { class: 'chip', 'data-role': r }, [el('b', {}, [String(roles[r])]), ' ' + r]) }) : [el('span', { class: 'empty' }, ['none'])]
  }

  function render(o) {
    $('served-by').textContent = o.servedBy
    $('updated').textContent = 'updated ' + new Date(o.at).toLocaleTimeString()
    var subs = 0
    o.topics.forEach(function (t) { subs += t.total })
    $('stat-nodes').textContent = String(o.nodes.length)
    $('stat-connections').textContent = String(o.presence.connections)
    $('stat-users').textContent = String(o.presence.users)
    $('stat-rooms').textContent = String(o.rooms.count)
    $('stat-subscriptions').textContent = String(subs)
    fill($('nodes').tBodies[0], o.nodes.map(function (n) {
      var beat = o.at - n.lastHeartbeat
      return el('tr', { 'data-node': n.id }, [
        el('td', {}, [el('b', {}, [n.id]), n.id === o.servedBy ? ' (this)' : '']),
        el('td', {}, [ago(o.at - n.started)]),
        el('td', { class: beat > 3 * every ? 'stale' : '' }, [ago(beat) + ' ago']),
        el('td', { class: 'num', 'data-k': 'connections' }, [String(n.connections)]),
        el('td', { 'data-k': 'roles' }, roleChips(n.roles)),
        el('td', { class: 'num', 'data-k': 'subscriptions' }, [n.topics ? String(sum(n.topics)) : '–']),
        el('td', { class: 'num' }, [num(n.rates && n.rates.framesIn)]),
        el('td', { class: 'num' }, [num(n.rates && n.rates.framesOut)]),
      ])
    }), 'no nodes', 8)
    $('rooms-note').textContent = o.rooms.count > o.rooms.top.length ? '(largest ' + o.rooms.top.length + ' of ' + o.rooms.count + ')' : ''
    fill($('rooms').tBodies[0], o.rooms.top.map(function (r) {
      return el('tr', { 'data-room': r.name }, [el('td', {}, [r.name]), el('td', { class: 'num', 'data-k': 'size' }, [String(r.size)])])
    }), 'no rooms', 2)
    var ids = o.nodes.map(function (n) { return n.id })
    $('topics').tHead.replaceChildren(el('tr', {}, [el('th', {}, ['topic']), el('th', { class: 'num' }, ['total'])].concat(ids.map(function (id) { return el('th', { class: 'num' }, [id]) }))))
    fill($('topics').tBodies[0], o.topics.map(function (t) {
      return el('tr', { 'data-topic': t.name }, [el('td', {}, [t.name]), el('td', { class: 'num', 'data-k': 'total' }, [String(t.total)])].concat(ids.map(function (id) {
        return el('td', { class: 'num', 'data-node': id }, [t.nodes[id] === undefined ? '0' : String(t.nodes[id])])
      })))
    }), 'no subscriptions', 2 + ids.length)
    var roles = el('div', {}, ['Connections by role: '].concat(roleChips(o.roles)))
    var sample = o.presence.sample.map(function (u) { return el('span', { class: 'chip', 'data-user': u }, [u]) })
    var more = o.presence.users > sample.length ? [' … and ' + (o.presence.users - sample.length) + ' more'] : []
    $('presence').replaceChildren(roles, el('div', {}, [el('b', { id: 'presence-users' }, [String(o.presence.users)]), ' users online: '].concat(sample, more)))
    var s = o.series, r = s.rates
    chart('chart-frames', s.t, [{ name: 'in', color: '#2f6fde', values: r.framesIn }, { name: 'out', color: '#16a34a', values: r.framesOut }])
    chart('chart-calls', s.t, [{ name: 'calls', color: '#7c3aed', values: r.calls }, { name: 'errors', color: '#dc2626', values: r.callErrors }])
    chart('chart-deliveries', s.t, [{ name: 'delivered', color: '#0891b2', values: r.delivered }, { name: 'published', color: '#ca8a04', values: r.published }])
    chart('chart-connections', s.t, [{ name: 'connections', color: '#1d2430', values: s.connections }])
  }

  function filterQuery() {
    var q = new URLSearchParams({ limit: '50' })
    ;['node', 'role', 'user', 'room'].forEach(function (k) { var v = $('f-' + k).value.trim(); if (v) q.set(k, v) })
    return q.toString()
  }

  async function disconnect(id, button) {
    button.disabled = true
    try {
      var r = await fetch(base + '/api/disconnect', { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json', 'x-rt-inspector': '1' }, body: JSON.stringify({ connId: id }) })
      if (!r.ok) throw new Error('HTTP ' + r.status)
      button.textContent = 'closed'
    } catch (e) {
      button.textContent = 'failed'
      button.title = String(e && e.message)
    }
  }

  function renderConns(list) {
    fill($('conns').tBodies[0], list.connections.map(function (c) {
      var action = []
      if (canDisconnect) {
        var b = el('button', { class: 'disconnect', type: 'button' }, ['disconnect'])
        b.addEventListener('click', function () { disconnect(c.connId, b) })
        action.push(b)
      }
      return el('tr', { 'data-conn': c.connId }, [el('td', {}, [c.connId]), el('td', {}, [c.nodeId]), el('td', {}, [c.userId]), el('td', {}, [c.role]), el('td', {}, [ago(Date.now() - c.since) + ' ago']), el('td', {}, action)])
    }), 'no connections', 6)
  }

  // One refresh at a time: a filter change during one asks for another right after it.
  var timer, running = false, again = false
  async function tick() {
    clearTimeout(timer)
    if (running) { again = true; return }
    running = true
    var status = $('status')
    try {
      var both = await Promise.all([get(base + '/api/overview'), get(base + '/api/connections?' + filterQuery())])
      render(both[0])
      renderConns(both[1])
      status.dataset.state = 'live'
      status.textContent = 'live · every ' + every / 1000 + ' s'
    } catch (e) {
      status.dataset.state = 'error'
      status.textContent = String(e && e.message)
    }
    running = false
    if (again) { again = false; return tick() }
    timer = setTimeout(tick, every)
  }
  ;['node', 'role', 'user', 'room'].forEach(function (k) { $('f-' + k).addEventListener('change', tick) })
  tick()
})()
`
