/* Hotpatch audit report: filters, matrix navigation and raw facts. Inline; nothing is loaded from anywhere. */
;(function () {
  'use strict'

  // pytest-html clones this row template for every test. Its media viewer's <video> and <img> make thousands
  // of rows slow to lay out, and the audit attaches no media: drop them before pytest-html renders the table.
  const rowTemplate = document.getElementById('template_results-table__tbody')
  if (rowTemplate) {
    rowTemplate.content.querySelectorAll('.media video, .media img').forEach((el) => el.remove())
  }

  const FILTERS = ['guest', 'control', 'outcome', 'status']
  const OUTCOME_CLASSES = {
    passed: 'passed', failed: 'failed', error: 'error', skipped: 'skipped', xfailed: 'waived', xpassed: 'xpassed',
  }
  const $ = (sel, root) => (root || document).querySelector(sel)
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel))

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

  function guestStatuses () {
    const map = {}
    $$('#hp-matrix tr[data-guest]').forEach((tr) => { map[tr.dataset.guest] = tr.dataset.status })
    return map
  }

  let statuses = {}

  // pytest-html labels; the audit's words are "waived" and "not evaluated".
  function relabel () {
    $$('#results-table td.col-result').forEach((td) => {
      if (td.textContent === 'XFailed') td.textContent = 'Waived'
    })
    const waived = $('span.xfailed')
    if (waived && /Expected failures/.test(waived.textContent)) {
      waived.textContent = waived.textContent.replace('Expected failures', 'Waived')
    }
    const errors = $('span.error')
    if (errors && /Errors,/.test(errors.textContent)) {
      errors.textContent = errors.textContent.replace('Errors,', 'Errors (not evaluated),')
    }
  }

  function applyResults () {
    const f = filters()
    const match = guestMatcher(f.guest)
    let shown = 0
    let total = 0
    $$('#results-table tbody.results-table-row').forEach((tbody) => {
      const guestCell = $('td.col-guest', tbody)
      if (!guestCell) return
      total += 1
      const guest = guestCell.textContent
      const control = ($('td.col-control', tbody) || { dataset: {} }).dataset.control
      const outcome = OUTCOME_CLASSES[Array.from(tbody.classList).find((c) => c in OUTCOME_CLASSES)]
      const hide = !match(guest) || (f.control && control !== f.control) ||
        (f.outcome && outcome !== f.outcome) || (f.status && statuses[guest] !== f.status)
      tbody.classList.toggle('hp-hidden', Boolean(hide))
      if (!hide) shown += 1
    })
    relabel()
    return [shown, total]
  }

  function applyMatrix () {
    const f = filters()
    const match = guestMatcher(f.guest)
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
    const [guests, allGuests] = applyMatrix()
    const [results, allResults] = applyResults()
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

  function goToRow (id) {
    let cell = document.getElementById(id)
    if (cell && cell.closest('tbody').classList.contains('hp-hidden')) {
      reset()
      cell = document.getElementById(id)
    }
    if (!cell) {
      window.alert('This test row is hidden by the outcome check boxes above the results table.')
      return
    }
    const tbody = cell.closest('tbody')
    tbody.scrollIntoView({ block: 'center' })
    tbody.classList.remove('hp-flash')
    void tbody.offsetWidth // restart the highlight animation
    tbody.classList.add('hp-flash')
  }

  let facts = { texts: {}, errors: {} }

  function showFacts (guest) {
    const dialog = $('#hp-facts-dialog')
    const text = facts.texts[guest]
    $('#hp-facts-title').textContent = 'Raw facts of ' + guest + (text === undefined ? '' : ' (facts/' + guest + '.json)')
    $('#hp-facts-error').textContent = facts.errors[guest] || ''
    $('#hp-facts-text').textContent = text === undefined ? 'No facts file was stored for this guest.' : text
    if (typeof dialog.showModal === 'function') dialog.showModal()
    else dialog.setAttribute('open', '')
  }

  function place () {
    // The audit sections come first, under the title; the control rationale goes after the results table.
    const top = $('#hp-top')
    const environment = $('#environment-header')
    if (top && environment) environment.parentNode.insertBefore(top, environment)
    const appendix = $('#hp-controls')
    const footer = $('footer')
    if (appendix && footer) footer.parentNode.insertBefore(appendix, footer)
  }

  function init () {
    place()
    facts = JSON.parse(($('#hp-facts') || { textContent: '{"texts":{},"errors":{}}' }).textContent)
    statuses = guestStatuses()
    loadFromUrl()
    apply()
    const factsOf = new URL(window.location.href).searchParams.get('hp-facts')
    if (factsOf !== null) showFacts(factsOf)
    FILTERS.forEach((name) => {
      const el = $('#hp-f-' + name)
      if (el) el.addEventListener(el.tagName === 'SELECT' ? 'change' : 'input', () => { saveToUrl(); apply() })
    })
    $('#hp-f-reset').addEventListener('click', reset)
    document.addEventListener('click', (evt) => {
      const link = evt.target.closest('a[href^="#hp-r-"]')
      if (link) {
        evt.preventDefault()
        goToRow(decodeURIComponent(link.getAttribute('href').slice(1)))
        return
      }
      const button = evt.target.closest('.hp-facts-btn')
      if (button) {
        showFacts(button.closest('tr').dataset.guest)
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
    // pytest-html replaces the whole results table whenever it sorts or filters: filter the new one again.
    new MutationObserver(apply).observe(document.body, { childList: true })
    // Milliseconds from navigation until the page was ready: the scale benchmark reads it from the DOM.
    document.body.dataset.hpReadyMs = String(Math.round(performance.now()))
  }

  // pytest-html's app.js renders the results table at the end of the body; run after it.
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init)
  else init()
})()
