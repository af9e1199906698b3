/* Hotpatch audit report: filters, paging, matrix navigation and the guest view. Inline; nothing is loaded from
   anywhere. The matrix and the results are drawn from the embedded data (#hp-table), one page at a time: the
   filters run over every row of the run, only the page shown is in the DOM. Text is only ever set as text. */
;(function () {
  'use strict'

  const FILTERS = ['guest', 'control', 'outcome', 'status', 'text']
  const $ = (sel, root) => (root || document).querySelector(sel)
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel))
  let table = { columns: [], outcomes: [], marks: [], statuses: [], guests: [], status: [], cells: [], sets: [], texts: [], waivers: [], rows: [] }
  let data = null // facts of every guest: the largest part of the page, parsed when a guest's view first opens
  let shown = { rows: [], guests: [], control: '' }
  let printing = false
  let tokens = null
  const pagers = {}

  function element (tag, className, text) {
    const el = document.createElement(tag)
    if (className) el.className = className
    if (text !== undefined) el.textContent = text
    return el
  }

  function filters () {
    const out = {}
    FILTERS.forEach((name) => { out[name] = ($('#hp-f-' + name) || { value: '' }).value.trim() })
    return out
  }

  function guestMatcher (text) {
    if (!text) return () => true
    if (!text.includes('*')) {
      const needle = text.toLowerCase()
      return (name) => name.toLowerCase().includes(needle)
    }
    const source = text.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')
    const rx = new RegExp('^' + source + '$', 'i')
    return (name) => rx.test(name)
  }

  function waiverText (row) {
    if (row[6] < 0) return ''
    const [sentence, underlying] = table.waivers[row[6]]
    return sentence + table.outcomes[underlying]
  }

  // Which rows and guests the filters keep, over the whole run; the matrix keeps a guest with a kept row.
  function select (f) {
    const match = guestMatcher(f.guest)
    const guestOk = table.guests.map((name, g) =>
      match(name) && (!f.status || table.statuses[table.status[g]] === f.status))
    const setOk = table.sets.map((ids) => !f.control || ids.includes(f.control))
    const outcome = f.outcome ? table.outcomes.indexOf(f.outcome) : -1
    const needle = f.text.toLowerCase()
    const textHit = needle ? table.texts.map((t) => t.toLowerCase().includes(needle)) : null
    const waiverHit = needle ? table.waivers.map((w) => w[0].toLowerCase().includes(needle)) : null
    const hasRow = new Uint8Array(table.guests.length)
    const rows = []
    table.rows.forEach((r, i) => {
      if (!guestOk[r[0]] || !setOk[r[1]] || (f.outcome && r[2] !== outcome)) return
      if (needle && !textHit[r[3]] && !textHit[r[5]] && !(r[6] >= 0 && waiverHit[r[6]])) return
      rows.push(i)
      hasRow[r[0]] = 1
    })
    const narrowed = Boolean(f.control || f.outcome || needle)
    const guests = []
    table.cells.forEach((cells, g) => { if (guestOk[g] && (!narrowed || hasRow[g])) guests.push(g) })
    return { rows, guests, control: f.control }
  }

  function pagerOf (name) {
    const root = $('#hp-pager-' + name)
    const state = { root, page: 0, size: Number(root ? root.dataset.size : 0) || 0 }
    pagers[name] = state
    return state
  }

  function slice (name, items) {
    const p = pagers[name]
    if (printing || !p.size) return items
    const pages = Math.max(1, Math.ceil(items.length / p.size))
    p.page = Math.min(Math.max(p.page, 0), pages - 1)
    return items.slice(p.page * p.size, (p.page + 1) * p.size)
  }

  function label (name, total, unit) {
    const p = pagers[name]
    if (!p.root) return
    const pages = p.size ? Math.max(1, Math.ceil(total / p.size)) : 1
    const first = total ? (p.size ? p.page * p.size : 0) + 1 : 0
    const last = p.size ? Math.min(total, (p.page + 1) * p.size) : total
    $('.hp-page-of', p.root).textContent = unit + ' ' + first + '\u2013' + last + ' of ' + total +
      ' (page ' + (p.size ? p.page + 1 : 1) + ' of ' + pages + ')'
    $$('button[data-step]', p.root).forEach((b) => {
      const back = b.dataset.step === 'first' || b.dataset.step === 'prev'
      b.disabled = back ? p.page === 0 || !p.size : !p.size || p.page >= pages - 1
    })
    $('.hp-page-size', p.root).value = p.size ? String(p.size) : 'all'
  }

  function matrixRow (g, control) {
    const name = table.guests[g]
    const status = table.statuses[table.status[g]] || ''
    const tr = element('tr')
    tr.dataset.guest = name
    tr.dataset.status = status
    const th = element('th')
    const button = element('button', 'hp-guest-btn', name)
    button.type = 'button'
    th.appendChild(button)
    tr.appendChild(th)
    tr.appendChild(element('td', 'hp-s-' + status.replace(/ /g, '-'), status))
    const cells = table.cells[g]
    for (let c = 0; c < table.columns.length; c++) {
      const o = cells.charAt(c)
      const td = o === '-' ? element('td') : element('td', 'o-' + table.outcomes[o], table.marks[o])
      if (table.columns[c] === control) td.classList.add('hp-col-on')
      tr.appendChild(td)
    }
    return tr
  }

  function resultRow (i) {
    const r = table.rows[i]
    const name = table.guests[r[0]]
    const ids = table.sets[r[1]]
    const outcome = table.outcomes[r[2]]
    const tr = element('tr', 'o-' + outcome)
    tr.id = anchor(r[0], ids[0])
    tr.dataset.guest = name
    tr.dataset.controls = ids.join(' ')
    tr.dataset.row = String(i)
    const who = element('td')
    const button = element('button', 'hp-guest-btn', name)
    button.type = 'button'
    who.appendChild(button)
    tr.appendChild(who)
    tr.appendChild(element('td', '', table.texts[r[3]]))
    tr.appendChild(element('td', '', table.texts[r[4]]))
    tr.appendChild(element('td', '', table.marks[r[2]] + ' ' + outcome))
    const message = element('td', '', table.texts[r[5]])
    if (r[6] >= 0) {
      const [sentence, underlying] = table.waivers[r[6]]
      const note = element('div', 'hp-waiver', sentence)
      note.appendChild(element('span', 'o-' + table.outcomes[underlying], table.outcomes[underlying]))
      message.appendChild(note)
    }
    tr.appendChild(message)
    return tr
  }

  function fill (tbody, items, make) {
    const rows = document.createDocumentFragment()
    items.forEach((item) => rows.appendChild(make(item)))
    tbody.textContent = ''
    tbody.appendChild(rows)
  }

  // Printing shows every guest and every result, whatever the filters and the page.
  function draw () {
    const everything = printing ? { rows: table.rows.map((_, i) => i), guests: table.cells.map((_, g) => g), control: '' } : shown
    $$('#hp-matrix thead th[data-control]').forEach((th) => {
      th.classList.toggle('hp-col-on', th.dataset.control === everything.control)
    })
    const matrixBody = $('#hp-matrix tbody')
    if (matrixBody) fill(matrixBody, slice('matrix', everything.guests), (g) => matrixRow(g, everything.control))
    const resultsBody = $('#hp-results-table tbody')
    if (resultsBody) fill(resultsBody, slice('results', everything.rows), resultRow)
    label('matrix', shown.guests.length, 'guests')
    label('results', shown.rows.length, 'rows')
    const count = $('#hp-f-count')
    if (count) {
      count.textContent = 'showing ' + shown.guests.length + ' of ' + table.cells.length + ' guests, ' +
        shown.rows.length + ' of ' + table.rows.length + ' result rows'
    }
  }

  function apply () {
    shown = select(filters())
    Object.keys(pagers).forEach((name) => { pagers[name].page = 0 })
    draw()
  }

  function saveToUrl () {
    const url = new URL(window.location.href)
    const f = filters()
    FILTERS.forEach((name) => {
      if (f[name]) url.searchParams.set('hp-' + name, f[name])
      else url.searchParams.delete('hp-' + name)
    })
    Object.keys(pagers).forEach((name) => {
      const p = pagers[name]
      const prefix = name === 'results' ? 'hp-' : 'hp-' + name + '-'
      if (p.page) url.searchParams.set(prefix + 'page', String(p.page + 1))
      else url.searchParams.delete(prefix + 'page')
      if (p.root && String(p.size || 'all') !== p.root.dataset.size) url.searchParams.set(prefix + 'size', String(p.size || 'all'))
      else url.searchParams.delete(prefix + 'size')
    })
    window.history.replaceState(window.history.state, '', url.href)
  }

  function loadFromUrl () {
    const params = new URL(window.location.href).searchParams
    FILTERS.forEach((name) => {
      const el = $('#hp-f-' + name)
      const value = params.get('hp-' + name)
      if (el && value !== null) el.value = value
    })
    Object.keys(pagers).forEach((name) => {
      const p = pagers[name]
      const prefix = name === 'results' ? 'hp-' : 'hp-' + name + '-'
      const size = params.get(prefix + 'size')
      if (size !== null) p.size = size === 'all' ? 0 : Math.max(1, parseInt(size, 10) || p.size)
    })
  }

  // Pages asked for in the URL, after the filters chose the rows: "last" or a number from 1.
  function pagesFromUrl () {
    const params = new URL(window.location.href).searchParams
    Object.keys(pagers).forEach((name) => {
      const prefix = name === 'results' ? 'hp-' : 'hp-' + name + '-'
      const page = params.get(prefix + 'page')
      if (page === null) return
      pagers[name].page = page === 'last' ? Infinity : (parseInt(page, 10) || 1) - 1
    })
    draw()
  }

  function reset () {
    FILTERS.forEach((name) => { const el = $('#hp-f-' + name); if (el) el.value = '' })
    apply()
    saveToUrl()
  }

  // The HTML id of a result row, as the report's Python side writes it into links (sections.row_anchor).
  function anchor (g, control) {
    if (tokens === null) tokens = new Array(table.guests.length)
    if (tokens[g] === undefined) {
      tokens[g] = table.guests[g].replace(/[^A-Za-z0-9_.-]/gu, (ch) => '_' + ch.codePointAt(0).toString(16) + '_')
    }
    return 'hp-r-' + tokens[g] + '-' + control
  }

  function rowOf (guest, control) {
    return table.rows.findIndex((r) => table.guests[r[0]] === guest && table.sets[r[1]].includes(control))
  }

  function rowOfAnchor (id) {
    return table.rows.findIndex((r) => table.sets[r[1]].some((control) => anchor(r[0], control) === id))
  }

  function goToRow (i) {
    if (i < 0) return
    if (!shown.rows.includes(i)) reset()
    const p = pagers.results
    if (p.size) p.page = Math.floor(shown.rows.indexOf(i) / p.size)
    draw()
    saveToUrl()
    const row = $('#hp-results-table tbody tr[data-row="' + i + '"]')
    if (!row) return
    row.scrollIntoView({ block: 'center' })
    row.classList.remove('hp-flash')
    void row.offsetWidth // restart the highlight animation
    row.classList.add('hp-flash')
  }

  function factValue (facts, key) {
    return key.split('.').reduce((value, part) => (value == null ? undefined : value[part]), facts)
  }

  function readsText (facts, control) {
    if (!facts) return ''
    const unreadable = {}
    ;(facts.errors || []).forEach((e) => { unreadable[e.probe] = e.message })
    return (data.reads[control] || []).map((key) => {
      const probe = Object.keys(unreadable).find((p) => key === p || key.startsWith(p + '.'))
      if (probe !== undefined) return key + ': could not be read: ' + unreadable[probe]
      return key + ': ' + JSON.stringify(factValue(facts, key))
    }).join('\n')
  }

  function showGuest (guest) {
    if (data === null) data = JSON.parse(($('#hp-data') || { textContent: '{}' }).textContent)
    const dialog = $('#hp-guest-dialog')
    let facts = null
    try { facts = data.facts[guest] === undefined ? null : JSON.parse(data.facts[guest]) } catch (e) { facts = null }
    $('#hp-guest-title').textContent = 'Guest ' + guest
    $('#hp-guest-status').textContent = 'Status: ' + (data.status[guest] || 'unknown')
    $('#hp-guest-error').textContent = data.errors[guest] ? 'Facts could not be obtained: ' + data.errors[guest] : ''
    const body = $('#hp-guest-results tbody')
    body.textContent = ''
    table.rows.forEach((r) => {
      if (table.guests[r[0]] !== guest) return
      const ids = table.sets[r[1]]
      const row = element('tr', 'o-' + table.outcomes[r[2]])
      const cells = [table.texts[r[3]], table.marks[r[2]] + ' ' + table.outcomes[r[2]],
        table.texts[r[5]] + waiverText(r), ids.length === 1 ? readsText(facts, ids[0]) : '']
      cells.forEach((text, i) => row.appendChild(element('td', i === 3 ? 'hp-reads' : '', text)))
      body.appendChild(row)
    })
    $('#hp-guest-facts').textContent = facts === null
      ? (data.facts[guest] === undefined ? 'No facts file was stored for this guest.' : data.facts[guest])
      : JSON.stringify(facts, null, 2)
    if (typeof dialog.showModal === 'function') dialog.showModal()
    else dialog.setAttribute('open', '')
  }

  function step (name, how) {
    const p = pagers[name]
    const total = name === 'results' ? shown.rows.length : shown.guests.length
    const last = p.size ? Math.max(0, Math.ceil(total / p.size) - 1) : 0
    p.page = { first: 0, prev: p.page - 1, next: p.page + 1, last }[how]
    draw()
    saveToUrl()
  }

  function init () {
    table = JSON.parse(($('#hp-table') || { textContent: JSON.stringify(table) }).textContent)
    pagerOf('matrix')
    pagerOf('results')
    loadFromUrl()
    shown = select(filters())
    pagesFromUrl()
    const guestOf = new URL(window.location.href).searchParams.get('hp-guest')
    if (guestOf !== null) showGuest(guestOf)
    if (window.location.hash.startsWith('#hp-r-')) goToRow(rowOfAnchor(decodeURIComponent(window.location.hash.slice(1))))
    FILTERS.forEach((name) => {
      const el = $('#hp-f-' + name)
      if (el) el.addEventListener(el.tagName === 'SELECT' ? 'change' : 'input', () => { apply(); saveToUrl() })
    })
    Object.keys(pagers).forEach((name) => {
      const root = pagers[name].root
      if (!root) return
      $('.hp-page-size', root).addEventListener('change', (evt) => {
        pagers[name].size = evt.target.value === 'all' ? 0 : Number(evt.target.value)
        pagers[name].page = 0
        draw()
        saveToUrl()
      })
    })
    const resetButton = $('#hp-f-reset')
    if (resetButton) resetButton.addEventListener('click', reset)
    window.addEventListener('beforeprint', () => { printing = true; draw() })
    window.addEventListener('afterprint', () => { printing = false; draw() })
    document.addEventListener('click', (evt) => {
      const move = evt.target.closest('.hp-pager button[data-step]')
      if (move) {
        step(move.closest('.hp-pager').id.slice('hp-pager-'.length), move.dataset.step)
        return
      }
      const link = evt.target.closest('a[href^="#hp-r-"]')
      if (link) {
        evt.preventDefault()
        goToRow(rowOfAnchor(decodeURIComponent(link.getAttribute('href').slice(1))))
        return
      }
      const cell = evt.target.closest('#hp-matrix td[class^="o-"]')
      if (cell) {
        goToRow(rowOf(cell.closest('tr').dataset.guest, table.columns[cell.cellIndex - 2]))
        return
      }
      const button = evt.target.closest('.hp-guest-btn')
      if (button) {
        showGuest(button.closest('tr').dataset.guest)
        return
      }
      const tile = evt.target.closest('.hp-tile[data-status]')
      if (tile) {
        $('#hp-f-status').value = tile.dataset.status
        apply()
        saveToUrl()
        $('#hp-matrix').scrollIntoView({ block: 'start' })
      }
    })
    // Milliseconds from navigation until the page was ready: the scale benchmark reads it from the DOM.
    document.body.dataset.hpReadyMs = String(Math.round(performance.now()))
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init)
  else init()
})()
