/* Hotpatch audit report: filters, matrix navigation and the guest view. Inline; nothing is loaded from anywhere. */
;(function () {
  'use strict'

  const FILTERS = ['guest', 'control', 'outcome', 'status']
  const $ = (sel, root) => (root || document).querySelector(sel)
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel))
  let data = { facts: {}, errors: {}, reads: {}, status: {} }

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

  function applyResults (f, match) {
    let shown = 0
    const rows = $$('#hp-results-table tbody tr')
    rows.forEach((tr) => {
      const hide = !match(tr.dataset.guest) ||
        (f.control && !tr.dataset.controls.split(' ').includes(f.control)) ||
        (f.outcome && !tr.classList.contains('o-' + f.outcome)) || (f.status && data.status[tr.dataset.guest] !== f.status)
      tr.classList.toggle('hp-hidden', Boolean(hide))
      if (!hide) shown += 1
    })
    return [shown, rows.length]
  }

  function applyMatrix (f, match) {
    const columns = $$('#hp-matrix thead th[data-control]').map((th) => th.dataset.control)
    $$('#hp-matrix thead th[data-control]').forEach((th) => {
      th.classList.toggle('hp-col-on', th.dataset.control === f.control)
    })
    let shown = 0
    const rows = $$('#hp-matrix tr[data-guest]')
    rows.forEach((tr) => {
      const cells = Array.from(tr.cells).slice(2)
      const chosen = f.control ? [cells[columns.indexOf(f.control)]].filter(Boolean) : cells
      const hasOutcome = !f.outcome || chosen.some((td) => td.classList.contains('o-' + f.outcome))
      const hide = !match(tr.dataset.guest) || (f.status && tr.dataset.status !== f.status) || !hasOutcome
      tr.classList.toggle('hp-hidden', Boolean(hide))
      cells.forEach((td, i) => td.classList.toggle('hp-col-on', columns[i] === f.control))
      if (!hide) shown += 1
    })
    return [shown, rows.length]
  }

  function apply () {
    const f = filters()
    const match = guestMatcher(f.guest)
    const [guests, allGuests] = applyMatrix(f, match)
    const [results, allResults] = applyResults(f, match)
    const count = $('#hp-f-count')
    if (count) {
      count.textContent = 'showing ' + guests + ' of ' + allGuests + ' guests, ' + results + ' of ' +
        allResults + ' result rows'
    }
  }

  function saveToUrl () {
    const url = new URL(window.location.href)
    const f = filters()
    FILTERS.forEach((name) => {
      if (f[name]) url.searchParams.set('hp-' + name, f[name])
      else url.searchParams.delete('hp-' + name)
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
  }

  function reset () {
    FILTERS.forEach((name) => { const el = $('#hp-f-' + name); if (el) el.value = '' })
    saveToUrl()
    apply()
  }

  function resultRow (guest, control) {
    return $$('#hp-results-table tbody tr').find((tr) =>
      tr.dataset.guest === guest && tr.dataset.controls.split(' ').includes(control))
  }

  function goToRow (row) {
    if (!row) return
    if (row.classList.contains('hp-hidden')) reset()
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
    const dialog = $('#hp-guest-dialog')
    let facts = null
    try { facts = data.facts[guest] === undefined ? null : JSON.parse(data.facts[guest]) } catch (e) { facts = null }
    $('#hp-guest-title').textContent = 'Guest ' + guest
    $('#hp-guest-status').textContent = 'Status: ' + (data.status[guest] || 'unknown')
    $('#hp-guest-error').textContent = data.errors[guest] ? 'Facts could not be obtained: ' + data.errors[guest] : ''
    const body = $('#hp-guest-results tbody')
    body.textContent = ''
    $$('#hp-results-table tbody tr').filter((tr) => tr.dataset.guest === guest).forEach((tr) => {
      const row = document.createElement('tr')
      row.className = (tr.className.match(/o-[a-z]+/) || [''])[0]
      const cells = [tr.cells[1].textContent, tr.cells[3].textContent, tr.cells[4].textContent,
        tr.dataset.controls.split(' ').length === 1 ? readsText(facts, tr.dataset.controls) : '']
      cells.forEach((text, i) => {
        const td = document.createElement('td')
        td.textContent = text
        if (i === 3) td.className = 'hp-reads'
        row.appendChild(td)
      })
      body.appendChild(row)
    })
    $('#hp-guest-facts').textContent = facts === null
      ? (data.facts[guest] === undefined ? 'No facts file was stored for this guest.' : data.facts[guest])
      : JSON.stringify(facts, null, 2)
    if (typeof dialog.showModal === 'function') dialog.showModal()
    else dialog.setAttribute('open', '')
  }

  function init () {
    data = JSON.parse(($('#hp-data') || { textContent: '{}' }).textContent)
    loadFromUrl()
    apply()
    const guestOf = new URL(window.location.href).searchParams.get('hp-guest')
    if (guestOf !== null) showGuest(guestOf)
    FILTERS.forEach((name) => {
      const el = $('#hp-f-' + name)
      if (el) el.addEventListener(el.tagName === 'SELECT' ? 'change' : 'input', () => { saveToUrl(); apply() })
    })
    const resetButton = $('#hp-f-reset')
    if (resetButton) resetButton.addEventListener('click', reset)
    document.addEventListener('click', (evt) => {
      const link = evt.target.closest('a[href^="#hp-r-"]')
      if (link) {
        evt.preventDefault()
        goToRow(document.getElementById(decodeURIComponent(link.getAttribute('href').slice(1))))
        return
      }
      const cell = evt.target.closest('#hp-matrix td[class^="o-"]')
      if (cell) {
        const columns = $$('#hp-matrix thead th[data-control]').map((th) => th.dataset.control)
        goToRow(resultRow(cell.closest('tr').dataset.guest, columns[cell.cellIndex - 2]))
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
        saveToUrl()
        apply()
        $('#hp-matrix').scrollIntoView({ block: 'start' })
      }
    })
    // Milliseconds from navigation until the page was ready: the scale benchmark reads it from the DOM.
    document.body.dataset.hpReadyMs = String(Math.round(performance.now()))
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init)
  else init()
})()
