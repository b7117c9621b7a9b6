/* The data explorer: DataTables (the build itables ships for offline use) over the
 * figures embedded in the page. Everything from the data is written as text: cells are
 * escaped by esc() before DataTables puts them in the DOM, links only take http(s)
 * addresses. Nothing is fetched: the library is imported from a blob: URL made from the
 * base64 text in #dt-bundle. */
(function () {
  'use strict';
  var rows = JSON.parse(document.getElementById('figures-data').textContent);
  var config = JSON.parse(document.getElementById('figures-config').textContent);
  var keys = config.columns.map(function (c) { return c[0]; });
  var form = document.getElementById('facets');
  var tableEl = document.getElementById('figures');
  var searchNotes = false;

  function esc(value) {
    return String(value === null || value === undefined ? '' : value)
      .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;').replace(/'/g, '&#39;');
  }
  function words(code) { return code ? String(code).replace(/_/g, ' ') : ''; }
  function num(v) {
    return (v === null || v === undefined) ? '' : Number(v).toLocaleString('en-US', {maximumFractionDigits: 2});
  }
  function httpUrl(url) { return /^https?:\/\//i.test(url || '') ? url : ''; }

  // One render function per column: display (escaped HTML), filter (search text),
  // sort, and export (the raw value written to CSV).
  var render = {
    operation: function (d, type, r) {
      if (type === 'display') {
        return '<a href="operations/' + encodeURIComponent(r.operation_id) + '.html">' + esc(d) + '</a>';
      }
      if (type === 'filter') return d + ' ' + r.operation_aliases + ' ' + r.operation_id;
      return d;
    },
    jurisdiction: function (d, type, r) {
      if (type === 'display') return '<span title="' + esc(r.place) + '">' + esc(d) + '</span>';
      if (type === 'filter') return d + ' ' + r.place;
      return d;
    },
    metric: function (d, type, r) {
      if (type === 'display') {
        return esc(words(d)) + (r.category ? ' <span class="cat">' + esc(words(r.category)) + '</span>' : '');
      }
      if (type === 'filter') return d + ' ' + words(d) + ' ' + (r.category || '') + ' ' + words(r.category);
      return d;
    },
    value: function (d, type, r) {
      if (type === 'display') {
        return esc(num(d) + (r.value_high !== null ? '–' + num(r.value_high) : ''));
      }
      if (type === 'sort' || type === 'type') return r.value_std === null ? -1 : r.value_std;
      if (type === 'filter') return num(d) + ' ' + (d === null ? '' : d);
      return d;
    },
    qualifier: function (d, type) { return type === 'export' ? d : (type === 'display' ? esc(words(d)) : words(d)); },
    as_of: function (d, type, r) {
      if (type === 'sort' || type === 'type') return r.as_of_date;
      return type === 'display' ? esc(d) : d;
    },
    scope: function (d, type) {
      if (type === 'display') {
        return d === 'part' ? '<span class="scope-part" title="one force, region or case; not the running tally">part</span>' : esc(d);
      }
      return d;
    },
    source_kind: function (d, type) {
      if (type === 'display') {
        var tip = d === 'primary' ? 'the agency\u2019s own release' : 'press or other';
        return '<span title="' + tip + '">' + esc(d) + '</span>';
      }
      return d;
    },
    source: function (d, type, r) {
      if (type === 'display') {
        var url = httpUrl(r.url);
        var text = esc(r.source_title || r.source_id);
        var tip = esc((r.source_title || '') + ' (' + r.source_id + ')');
        return url ? '<a class="clamp" href="' + esc(url) + '" rel="noopener noreferrer" title="' + tip + '">' + text + '</a>' : text;
      }
      if (type === 'filter') return r.source_title + ' ' + r.source_id;
      return r.source_title;
    },
    publisher: function (d, type) {
      return type === 'display' ? '<span class="clamp" title="' + esc(d) + '">' + esc(d) + '</span>' : (d || '');
    },
    doubtful: function (d, type) { return type === 'export' ? String(d) : (d ? 'doubtful' : ''); },
    note: function (d, type) { return type === 'filter' ? (searchNotes ? (d || '') : '') : (type === 'display' ? esc(d) : d); },
    locator: function (d, type) { return type === 'filter' ? (searchNotes ? (d || '') : '') : (type === 'display' ? esc(d) : d); },
    url: function (d, type) {
      if (type === 'display') {
        var url = httpUrl(d);
        return url ? '<a href="' + esc(url) + '" rel="noopener noreferrer">' + esc(url) + '</a>' : esc(d);
      }
      return d;
    }
  };
  var numeric = {value_high: 1, value_std: 1, value_usd: 1, value_eur: 1};
  function plain(d, type) {
    if (type === 'display') return esc(d);
    return d === null || d === undefined ? '' : d;
  }
  function numberCell(d, type) {
    if (type === 'display') return esc(num(d));
    if (type === 'sort' || type === 'type') return d === null ? -1 : d;
    return d === null ? '' : d;
  }

  // Facets and the date range: one fixed search function over the row objects.
  var facets = {};
  var range = {from: '', to: ''};
  function keep(row) {
    for (var key in facets) {
      var want = facets[key];
      if (!want) continue;
      var have = row[key] === null ? '' : String(row[key]);
      if (want.charAt(want.length - 1) === '*') {
        var base = want.slice(0, -1);
        if (have !== base && have.indexOf(base + '-') !== 0) return false;
      } else if (have !== want) {
        return false;
      }
    }
    if (range.from && row.as_of_date < range.from) return false;
    if (range.to && row.as_of_date > range.to) return false;
    return true;
  }

  function readState() {
    form.querySelectorAll('select[data-facet]').forEach(function (s) { facets[s.getAttribute('data-facet')] = s.value; });
    range.from = form.querySelector('[data-range=from]').value;
    range.to = form.querySelector('[data-range=to]').value;
  }

  function saveHash(table) {
    var params = new URLSearchParams();
    for (var key in facets) if (facets[key]) params.set(key, facets[key]);
    if (range.from) params.set('from', range.from);
    if (range.to) params.set('to', range.to);
    if (table.search()) params.set('q', table.search());
    if (searchNotes) params.set('notes', '1');
    var text = params.toString();
    history.replaceState(null, '', text ? '#' + text : location.pathname + location.search);
  }

  function loadHash() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ''));
    form.querySelectorAll('select[data-facet]').forEach(function (s) {
      var v = params.get(s.getAttribute('data-facet'));
      if (v !== null && Array.prototype.some.call(s.options, function (o) { return o.value === v; })) s.value = v;
    });
    if (params.get('from')) form.querySelector('[data-range=from]').value = params.get('from');
    if (params.get('to')) form.querySelector('[data-range=to]').value = params.get('to');
    if (params.get('notes') === '1') { searchNotes = true; document.getElementById('search-notes').checked = true; }
    return params.get('q') || '';
  }

  function safeCsv(d) {
    // A text cell that a spreadsheet would read as a formula is written with a leading
    // quote, as sting_outcomes.data.export does for the CSV files (numbers stay numbers).
    if (typeof d === 'string' && /^[=+\-@\t\r]/.test(d)) return "'" + d;
    return d;
  }

  async function loadDataTables() {
    var text = atob(document.getElementById('dt-bundle').textContent.trim());
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    var url = URL.createObjectURL(new Blob([bytes], {type: 'text/javascript'}));
    try {
      return await import(url);
    } finally {
      URL.revokeObjectURL(url);
    }
  }

  loadDataTables().then(function (mod) {
    var DataTable = mod.default;
    var index = {};
    keys.forEach(function (k, i) { index[k] = i; });
    var query = loadHash();
    readState();
    var columns = config.columns.map(function (c) {
      var key = c[0];
      var col = {data: key, title: c[1], visible: c[2], name: key, defaultContent: '', className: 'c-' + key};
      if (render[key]) col.render = render[key];
      else if (numeric[key]) { col.render = numberCell; col.className += ' dt-right'; }
      else col.render = plain;
      if (key === 'value') { col.orderData = [index.unit_std, index.value_std]; col.className += ' dt-right'; }
      if (key === 'value_std') col.orderData = [index.unit_std, index.value_std];
      if (key === 'as_of') col.className += ' dt-left';
      return col;
    });
    var table = new DataTable(tableEl, {
      data: rows,
      columns: columns,
      order: [[0, 'asc']],
      autoWidth: false,
      deferRender: true,
      pageLength: 100,
      lengthMenu: [[100, 500, -1], ['100', '500', 'all']],
      search: {search: query, smart: true, boundary: true, caseInsensitive: true},
      layout: {
        topStart: {buttons: [
          {
            extend: 'csvHtml5',
            text: 'Download this view (CSV)',
            className: 'download-view',
            filename: 'sting-outcomes-figures-view',
            bom: true,
            exportOptions: {
              columns: keys.map(function (k, i) { return i; }),
              orthogonal: 'export',
              stripHtml: false,
              decodeEntities: false,
              modifier: {search: 'applied', order: 'applied', page: 'all'},
              format: {
                header: function (d, i) { return keys[i] === 'source' ? 'source_title' : keys[i]; },
                body: function (d) { return safeCsv(d); }
              }
            }
          },
          {extend: 'colvis', text: 'Columns'}
        ]},
        topEnd: 'search',
        top2Start: 'info',
        bottomStart: 'info',
        bottomEnd: ['pageLength', 'paging']
      },
      language: {
        search: 'Search',
        searchPlaceholder: 'e.g. encrochat arrests GB',
        info: 'Showing _START_ to _END_ of _TOTAL_ figures',
        infoEmpty: 'No figures',
        infoFiltered: '(filtered from _MAX_)',
        zeroRecords: 'No figure matches: remove a word or clear a list.',
        lengthMenu: '_MENU_ per page'
      }
    });
    table.search.fixed('facets', function (s, row) { return keep(row); });
    table.draw();
    function changed() { readState(); table.draw(); saveHash(table); }
    form.addEventListener('change', function (e) {
      if (e.target.id === 'search-notes') {
        searchNotes = e.target.checked;
        table.rows().invalidate('data');
      }
      changed();
    });
    form.addEventListener('reset', function () {
      setTimeout(function () {
        searchNotes = false;
        table.rows().invalidate('data');
        table.search('');
        changed();
      }, 0);
    });
    table.on('search.dt', function () { saveHash(table); });
    tableEl.setAttribute('data-ready', '1');
  }).catch(function (err) {
    tableEl.insertAdjacentHTML('beforebegin', '<p class="error">The table could not start: ' + esc(err) + '</p>');
    throw err;
  });
})();
